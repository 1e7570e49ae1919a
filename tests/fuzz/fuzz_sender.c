/*
 * fuzz_sender.c - address normalisation and key building
 *
 * The input, cut at its first NUL, is an envelope address.  It goes
 * through gg_triplet_sender() and gg_triplet_recipient(), and both
 * results into triplet keys for an IPv4 and an IPv6 client network.
 *
 * Invariants: a result fits its buffer and holds no upper-case ASCII; a
 * buffer one byte short is refused with GG_ETOOBIG, never silently cut;
 * a key starts with "t/", has exactly four '/' (two in "t/NET/PREFIX", two
 * separators), no control bytes or spaces, and is shorter than GG_KEY_MAX.
 * The same text is also tried as an address and as a network, and a parsed
 * address must survive format -> parse unchanged.
 */
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "lib/addr.h"
#include "engine/triplet.h"
#include "lib/util.h"

static void check_norm(enum gg_status (*fn)(const char *, char *, size_t), const char *in)
{
	char out[GG_ADDRESS_MAX + 1], again[GG_ADDRESS_MAX + 1];
	enum gg_status st = fn(in, out, sizeof(out));
	size_t n;

	if (strlen(in) > GG_ADDRESS_MAX) {
		fuzz_check(st == GG_ETOOBIG);
		return;
	}
	if (st != GG_OK)
		return;
	n = strlen(out);
	fuzz_check(n < sizeof(out));
	for (size_t i = 0; i < n; i++)
		fuzz_check(!(out[i] >= 'A' && out[i] <= 'Z'));
	/* Exactly enough room works; one byte less is refused. */
	fuzz_check(fn(in, again, n + 1) == GG_OK);
	fuzz_check(strcmp(again, out) == 0);
	if (n > 0)
		fuzz_check(fn(in, again, n) == GG_ETOOBIG);
}

static void check_key(const char *net, const char *sender, const char *rcpt)
{
	char key[GG_KEY_MAX];
	size_t len = 0, slashes = 0;

	if (gg_triplet_key(net, sender, rcpt, key, sizeof(key), &len) != GG_OK) {
		fuzz_check(strlen(net) + strlen(sender) + strlen(rcpt) + 5 > GG_KEY_MAX);
		return;
	}
	fuzz_check(len == strlen(key) && len < GG_KEY_MAX);
	fuzz_check(strncmp(key, "t/", 2) == 0);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];
		fuzz_check(c > 0x20 && c < 0x7f);
		slashes += c == '/';
	}
	fuzz_check(slashes == 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	char s[GG_ADDRESS_MAX + 1], r[GG_ADDRESS_MAX + 1], net4[GG_ADDR_STRLEN], net6[GG_ADDR_STRLEN];
	struct gg_addr a, b;
	struct gg_cidr c;

	fuzz_check(in != NULL);
	memcpy(in, data, size);
	in[size] = '\0';

	check_norm(gg_triplet_sender, in);
	check_norm(gg_triplet_recipient, in);

	fuzz_check(gg_addr_parse("192.0.2.77", &a) == GG_OK);
	gg_triplet_client_net(&a, 24, 64, net4, sizeof(net4));
	fuzz_check(gg_addr_parse("2001:db8:1:2::77", &a) == GG_OK);
	gg_triplet_client_net(&a, 24, 64, net6, sizeof(net6));
	if (gg_triplet_sender(in, s, sizeof(s)) == GG_OK &&
	    gg_triplet_recipient(in, r, sizeof(r)) == GG_OK) {
		check_key(net4, s, r);
		check_key(net6, s, "postmaster@example.com");
		check_key(net4, "", r);
	}
	/* Raw, unnormalised parts too: the key must neutralise them itself. */
	check_key(net4, in, in);

	/* The same text as a client address and as a network. */
	if (gg_addr_parse(in, &a) == GG_OK) {
		char txt[GG_ADDR_STRLEN];
		gg_addr_format(&a, txt, sizeof(txt));
		fuzz_check(gg_addr_parse(txt, &b) == GG_OK);
		fuzz_check(a.family == b.family && memcmp(a.bytes, b.bytes, sizeof(a.bytes)) == 0);
		gg_triplet_client_net(&a, 24, 64, txt, sizeof(txt));
	}
	if (gg_cidr_parse(in, &c) == GG_OK) {
		struct gg_addr m = c.addr;
		fuzz_check(c.prefix >= 0 && c.prefix <= (c.addr.family == AF_INET ? 32 : 128));
		gg_addr_mask(&m, c.prefix);
		fuzz_check(memcmp(&m, &c.addr, sizeof(m)) == 0);
		fuzz_check(gg_cidr_match(&c, &c.addr));
	}
	free(in);
	return 0;
}
