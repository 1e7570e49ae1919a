/*
 * t_triplet.c - unit tests for engine/triplet.c: sender and recipient
 * normalisation, client network text and the key formats
 */
#include <string.h>

#include "unit.h"
#include "lib/addr.h"
#include "engine/triplet.h"
#include "lib/util.h"

/* Sender normalisation */

struct sender_case {
	const char *label;
	const char *in;
	const char *want;
};

static const struct sender_case sender_cases[] = {
	{ "plain address unchanged", "alice@example.org", "alice@example.org" },
	{ "domain lower-cased", "alice@Example.ORG", "alice@example.org" },
	{ "local part lower-cased too", "Alice@Example.ORG", "alice@example.org" },
	{ "null sender stays empty", "", "" },
	{ "no domain", "MAILER-DAEMON", "mailer-daemon" },
	{ "BATV prvs=TAG=user", "prvs=1234abcdef=alice@example.org", "alice@example.org" },
	{ "BATV prvs=TAG=user, other tag", "prvs=0987fedcba=alice@example.org", "alice@example.org" },
	{ "BATV upper case PRVS=", "PRVS=1234ABCDEF=Alice@Example.org", "alice@example.org" },
	{ "BATV prvs=user=TAG (old order)", "prvs=alice=1234abcdef@example.org", "alice@example.org" },
	{ "BATV btv1==TAG==user", "btv1==1234abcdef==alice@example.org", "alice@example.org" },
	{ "SRS0 keeps original domain and user",
	  "SRS0=HHH=TT=orig.example=alice@forwarder.example",
	  "srs0=orig.example=alice@forwarder.example" },
	{ "SRS0 hash and time do not matter",
	  "SRS0=x9Zq=2B=orig.example=alice@forwarder.example",
	  "srs0=orig.example=alice@forwarder.example" },
	{ "SRS1 keeps original domain and user",
	  "SRS1=HHH=fwd1.example==HHH=TT=orig.example=alice@fwd2.example",
	  "srs1=orig.example=alice@fwd2.example" },
	{ "lower-case srs0", "srs0=abcd=XY=orig.example=bob@fwd.example",
	  "srs0=orig.example=bob@fwd.example" },
	{ "VERP +extension cut", "alice+list-123@example.org", "alice@example.org" },
	{ "sub-address +tag cut", "alice+tag@example.org", "alice@example.org" },
	{ "leading + kept", "+alice@example.org", "+alice@example.org" },
	{ "digit runs folded", "bounce-12345-67890@lists.example", "bounce-#-#@lists.example" },
	{ "digit run with dots", "msg.1234567.abc@example.org", "msg.#.abc@example.org" },
	{ "long hex tag folded", "bounce-deadbeef01@example.org", "bounce-#@example.org" },
	{ "long hex tag with upper case folded", "bounce-DEADBEEF01@example.org", "bounce-#@example.org" },
	{ "short hex word kept", "cafe1@example.org", "cafe1@example.org" },
	{ "hex letters without digits kept", "deadbeefcafe@example.org", "deadbeefcafe@example.org" },
	{ "name with digits kept", "user2024@example.org", "user2024@example.org" },
	{ "all-digit local part folded", "12345@example.org", "#@example.org" },
	{ "digits in the domain kept", "a@mx123.example.org", "a@mx123.example.org" },
	{ "BATV then VERP then digits",
	  "prvs=1234abcdef=list-bounces+99-alice=example.com@lists.example.org",
	  "list-bounces@lists.example.org" },
	{ "empty local part", "@example.org", "@example.org" },
};

static void test_sender(void **state)
{
	const struct sender_case *c = *state;
	char out[GG_ADDRESS_MAX + 1];

	assert_int_equal(gg_triplet_sender(c->in, out, sizeof(out)), GG_OK);
	assert_string_equal(out, c->want);
}

static void test_sender_limits(void **state)
{
	char in[GG_ADDRESS_MAX + 2], out[GG_ADDRESS_MAX + 1], small[8];

	(void)state;
	/* 64 + '@' + 255 = GG_ADDRESS_MAX is fine. */
	memset(in, 'a', 64);
	in[64] = '@';
	memset(in + 65, 'b', GG_ADDRESS_MAX - 65);
	in[GG_ADDRESS_MAX] = '\0';
	assert_int_equal(gg_triplet_sender(in, out, sizeof(out)), GG_OK);
	assert_int_equal(strlen(out), GG_ADDRESS_MAX);
	/* One more byte is refused, not cut. */
	in[GG_ADDRESS_MAX] = 'b';
	in[GG_ADDRESS_MAX + 1] = '\0';
	assert_int_equal(gg_triplet_sender(in, out, sizeof(out)), GG_ETOOBIG);
	/* An output buffer that is too small is reported. */
	assert_int_equal(gg_triplet_sender("alice@example.org", small, sizeof(small)), GG_ETOOBIG);
	assert_int_equal(gg_triplet_sender("", small, 0), GG_ETOOBIG);
}

static void test_sender_retries_same_key(void **state)
{
	/* What a real sender changes between retries must not change the key. */
	static const char *spellings[] = {
		"prvs=1234abcdef=alice@example.org",
		"prvs=5678abcdef=alice@example.org",
		"PRVS=9999ABCDEF=alice@Example.Org",
		"alice+verp-1@example.org",
		"alice+verp-2@example.org",
	};
	char first[GG_ADDRESS_MAX + 1], out[GG_ADDRESS_MAX + 1];

	(void)state;
	assert_int_equal(gg_triplet_sender(spellings[0], first, sizeof(first)), GG_OK);
	for (size_t i = 1; i < GG_ARRAY_LEN(spellings); i++) {
		assert_int_equal(gg_triplet_sender(spellings[i], out, sizeof(out)), GG_OK);
		assert_string_equal(out, first);
	}
}

/* Recipient normalisation */

struct rcpt_case {
	const char *label;
	const char *in;
	enum gg_status st;
	const char *want;
};

static const struct rcpt_case rcpt_cases[] = {
	{ "lower-cased whole", "Bob@Example.COM", GG_OK, "bob@example.com" },
	{ "extension kept", "Bob+Tag@Example.com", GG_OK, "bob+tag@example.com" },
	{ "digits kept", "bob123@example.com", GG_OK, "bob123@example.com" },
	{ "no domain", "Postmaster", GG_OK, "postmaster" },
	{ "empty", "", GG_OK, "" },
};

static void test_recipient(void **state)
{
	const struct rcpt_case *c = *state;
	char out[GG_ADDRESS_MAX + 1];

	assert_int_equal(gg_triplet_recipient(c->in, out, sizeof(out)), c->st);
	assert_string_equal(out, c->want);
}

static void test_recipient_limits(void **state)
{
	char in[GG_ADDRESS_MAX + 2], out[GG_ADDRESS_MAX + 1], small[4];

	(void)state;
	memset(in, 'r', GG_ADDRESS_MAX);
	in[GG_ADDRESS_MAX] = '\0';
	assert_int_equal(gg_triplet_recipient(in, out, sizeof(out)), GG_OK);
	in[GG_ADDRESS_MAX] = 'r';
	in[GG_ADDRESS_MAX + 1] = '\0';
	assert_int_equal(gg_triplet_recipient(in, out, sizeof(out)), GG_ETOOBIG);
	assert_int_equal(gg_triplet_recipient("bob@example.com", small, sizeof(small)), GG_ETOOBIG);
}

/* Client network text */

struct net_case {
	const char *label;
	const char *addr;
	int v4, v6;
	const char *want;
};

static const struct net_case net_cases[] = {
	{ "IPv4 /24", "192.0.2.77", 24, 64, "192.0.2.0/24" },
	{ "IPv4 /32", "192.0.2.77", 32, 64, "192.0.2.77/32" },
	{ "IPv4 /20", "192.0.2.77", 20, 64, "192.0.0.0/20" },
	{ "mapped client uses the IPv4 prefix", "::ffff:192.0.2.77", 24, 64, "192.0.2.0/24" },
	{ "IPv6 /64", "2001:db8:1:2:3:4:5:6", 24, 64, "2001:db8:1:2::/64" },
	{ "IPv6 /48", "2001:db8:1:2:3:4:5:6", 24, 48, "2001:db8:1::/48" },
	{ "IPv6 /56", "2001:db8:1:2ff:3:4:5:6", 24, 56, "2001:db8:1:200::/56" },
	{ "IPv6 /128", "2001:db8::6", 24, 128, "2001:db8::6/128" },
};

static void test_client_net(void **state)
{
	const struct net_case *c = *state;
	struct gg_addr a;
	char out[GG_ADDR_STRLEN];

	assert_int_equal(gg_addr_parse(c->addr, &a), GG_OK);
	gg_triplet_client_net(&a, c->v4, c->v6, out, sizeof(out));
	assert_string_equal(out, c->want);
}

/* Keys */

struct key_case {
	const char *label;
	const char *client, *sender, *rcpt;
	const char *want;
};

static const struct key_case key_cases[] = {
	{ "IPv4 triplet", "192.0.2.0/24", "alice@example.org", "bob@example.com",
	  "t/192.0.2.0/24/alice@example.org/bob@example.com" },
	{ "IPv6 triplet", "2001:db8:1:2::/64", "alice@example.org", "bob@example.com",
	  "t/2001:db8:1:2::/64/alice@example.org/bob@example.com" },
	{ "null sender", "192.0.2.0/24", "", "bob@example.com", "t/192.0.2.0/24//bob@example.com" },
	{ "slash in sender becomes ?", "192.0.2.0/24", "a/b@example.org", "bob@example.com",
	  "t/192.0.2.0/24/a?b@example.org/bob@example.com" },
	{ "slash in recipient becomes ?", "192.0.2.0/24", "a@example.org", "x/y@example.com",
	  "t/192.0.2.0/24/a@example.org/x?y@example.com" },
	{ "control chars and space become ?", "192.0.2.0/24", "a\tb c\x01@x", "d\r\ne\x7f@y",
	  "t/192.0.2.0/24/a?b?c?@x/d??e?@y" },
	{ "client part keeps its slash", "10.0.0.0/8", "s", "r", "t/10.0.0.0/8/s/r" },
};

static void test_key(void **state)
{
	const struct key_case *c = *state;
	char key[GG_KEY_MAX];
	size_t len = 0;

	assert_int_equal(gg_triplet_key(c->client, c->sender, c->rcpt, key, sizeof(key), &len), GG_OK);
	assert_string_equal(key, c->want);
	assert_int_equal(len, strlen(c->want));
}

static void test_client_key(void **state)
{
	char key[GG_KEY_MAX];
	size_t len = 0;

	(void)state;
	assert_int_equal(gg_triplet_client_key("192.0.2.0/24", key, sizeof(key), &len), GG_OK);
	assert_string_equal(key, "c/192.0.2.0/24");
	assert_int_equal(len, strlen("c/192.0.2.0/24"));
	assert_int_equal(gg_triplet_client_key("2001:db8:1:2::/64", key, sizeof(key), &len), GG_OK);
	assert_string_equal(key, "c/2001:db8:1:2::/64");
	assert_int_equal(gg_triplet_client_key("x", key, 3, &len), GG_ETOOBIG);	/* needs 4 */
	assert_int_equal(gg_triplet_client_key("x", key, 4, &len), GG_OK);
}

static void test_key_limits(void **state)
{
	static char big[GG_KEY_MAX + 16];
	char key[GG_KEY_MAX + 64];
	size_t len = 0, fixed = strlen("t/") + strlen("c") + 1 + 1 + 1 + 1;

	(void)state;
	/* "t/" c "/" SENDER "/" "r" NUL: the sender that makes exactly GG_KEY_MAX bytes fits. */
	memset(big, 's', GG_KEY_MAX - fixed);
	big[GG_KEY_MAX - fixed] = '\0';
	assert_int_equal(gg_triplet_key("c", big, "r", key, sizeof(key), &len), GG_OK);
	assert_int_equal(len, GG_KEY_MAX - 1);
	/* One byte more is refused, never cut, even when the buffer could hold it. */
	big[GG_KEY_MAX - fixed] = 's';
	big[GG_KEY_MAX - fixed + 1] = '\0';
	assert_int_equal(gg_triplet_key("c", big, "r", key, sizeof(key), &len), GG_ETOOBIG);
	/* A buffer too small for a short key is refused too. */
	assert_int_equal(gg_triplet_key("192.0.2.0/24", "a", "b", key, 10, &len), GG_ETOOBIG);
	/* Over-long client in a client key. */
	memset(big, '1', GG_KEY_MAX);
	big[GG_KEY_MAX] = '\0';
	assert_int_equal(gg_triplet_client_key(big, key, sizeof(key), &len), GG_ETOOBIG);
}

static void test_key_from_normalised_parts(void **state)
{
	/* End to end: what the engine does for a retry with a new BATV tag and new port. */
	struct gg_addr a;
	char net[GG_ADDR_STRLEN], s[GG_ADDRESS_MAX + 1], r[GG_ADDRESS_MAX + 1], key[GG_KEY_MAX];
	size_t len;

	(void)state;
	assert_int_equal(gg_addr_parse("::ffff:198.51.100.23", &a), GG_OK);
	gg_triplet_client_net(&a, 24, 64, net, sizeof(net));
	assert_int_equal(gg_triplet_sender("prvs=1234abcdef=Alice+news@Example.ORG", s, sizeof(s)), GG_OK);
	assert_int_equal(gg_triplet_recipient("Bob@Example.COM", r, sizeof(r)), GG_OK);
	assert_int_equal(gg_triplet_key(net, s, r, key, sizeof(key), &len), GG_OK);
	assert_string_equal(key, "t/198.51.100.0/24/alice@example.org/bob@example.com");
}

int main(void)
{
	struct tu_suite s = { 0 };
	size_t i;

	for (i = 0; i < GG_ARRAY_LEN(sender_cases); i++)
		tu_add(&s, test_sender, &sender_cases[i], "sender: %s", sender_cases[i].label);
	tu_add(&s, test_sender_limits, NULL, "sender: GG_ADDRESS_MAX fits, one more is GG_ETOOBIG");
	tu_add(&s, test_sender_retries_same_key, NULL, "sender: BATV and VERP retries give one key");
	for (i = 0; i < GG_ARRAY_LEN(rcpt_cases); i++)
		tu_add(&s, test_recipient, &rcpt_cases[i], "recipient: %s", rcpt_cases[i].label);
	tu_add(&s, test_recipient_limits, NULL, "recipient: GG_ADDRESS_MAX fits, one more is GG_ETOOBIG");
	for (i = 0; i < GG_ARRAY_LEN(net_cases); i++)
		tu_add(&s, test_client_net, &net_cases[i], "client net: %s", net_cases[i].label);
	for (i = 0; i < GG_ARRAY_LEN(key_cases); i++)
		tu_add(&s, test_key, &key_cases[i], "key: %s", key_cases[i].label);
	tu_add(&s, test_client_key, NULL, "key: client keys c/NET");
	tu_add(&s, test_key_limits, NULL, "key: GG_KEY_MAX fits, one more is GG_ETOOBIG");
	tu_add(&s, test_key_from_normalised_parts, NULL, "key: built from normalised parts");
	return tu_run(&s, "t_triplet");
}
