/*
 * t_request.c - unit tests for engine/request.c: bounded fields, the
 * truncated and seen flags, NUL refusal and protocol_state mapping
 */
#include <stddef.h>
#include <string.h>

#include "unit.h"
#include "engine/request.h"
#include "lib/util.h"

/* Every field, where it lives and how big it is. */
struct field_case {
	const char *label;
	enum gg_req_field f;
	size_t offset, size;
};

#define FIELD(name, e) { #name, e, offsetof(struct gg_request, name), \
			 sizeof(((struct gg_request *)0)->name) }

static const struct field_case fields[] = {
	FIELD(client_address, GG_RF_CLIENT_ADDRESS),
	FIELD(client_name, GG_RF_CLIENT_NAME),
	FIELD(reverse_client_name, GG_RF_REVERSE_CLIENT_NAME),
	FIELD(helo_name, GG_RF_HELO_NAME),
	FIELD(sender, GG_RF_SENDER),
	FIELD(recipient, GG_RF_RECIPIENT),
	FIELD(instance, GG_RF_INSTANCE),
	FIELD(queue_id, GG_RF_QUEUE_ID),
	FIELD(sasl_username, GG_RF_SASL_USERNAME),
	FIELD(protocol_state, GG_RF_PROTOCOL_STATE),
	FIELD(request, GG_RF_REQUEST),
};

static const char *fld(const struct gg_request *r, const struct field_case *c)
{
	return (const char *)r + c->offset;
}

static void fill(char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + i % 26);
}

static void test_init(void **state)
{
	struct gg_request r;

	(void)state;
	memset(&r, 0x5a, sizeof(r));
	gg_request_init(&r);
	for (size_t i = 0; i < GG_ARRAY_LEN(fields); i++)
		assert_string_equal(fld(&r, &fields[i]), "");
	assert_int_equal(r.stage, GG_STAGE_OTHER);
	assert_int_equal(r.seen, 0);
	assert_int_equal(r.truncated, 0);
}

/* A value one byte shorter than the field fits. */
static void test_fits(void **state)
{
	const struct field_case *c = *state;
	struct gg_request r;
	char v[2048];

	gg_request_init(&r);
	fill(v, c->size - 1);
	assert_int_equal(gg_request_set(&r, c->f, v, c->size - 1), GG_OK);
	assert_int_equal(strlen(fld(&r, c)), c->size - 1);
	assert_memory_equal(fld(&r, c), v, c->size - 1);
	assert_int_equal(r.seen, 1u << c->f);
	assert_int_equal(r.truncated, 0);
}

/* A value as long as the field is cut to size - 1 and flagged. */
static void test_cut(void **state)
{
	const struct field_case *c = *state;
	struct gg_request r;
	char v[2048];

	gg_request_init(&r);
	fill(v, sizeof(v));
	assert_int_equal(gg_request_set(&r, c->f, v, c->size), GG_ETOOBIG);
	assert_int_equal(strlen(fld(&r, c)), c->size - 1);
	assert_memory_equal(fld(&r, c), v, c->size - 1);	/* the prefix is kept */
	assert_int_equal(r.truncated, 1u << c->f);
	assert_int_equal(r.seen, 1u << c->f);
	/* Far too long: same result. */
	gg_request_init(&r);
	assert_int_equal(gg_request_set(&r, c->f, v, sizeof(v)), GG_ETOOBIG);
	assert_int_equal(strlen(fld(&r, c)), c->size - 1);
	assert_int_equal(r.truncated, 1u << c->f);
}

/* A NUL byte anywhere in the value is refused and leaves the field empty. */
static void test_nul(void **state)
{
	const struct field_case *c = *state;
	struct gg_request r;

	gg_request_init(&r);
	assert_int_equal(gg_request_set(&r, c->f, "ok", 2), GG_OK);
	assert_int_equal(gg_request_set(&r, c->f, "ab\0cd", 5), GG_EINVAL);
	assert_string_equal(fld(&r, c), "");
	assert_int_equal(gg_request_set(&r, c->f, "\0", 1), GG_EINVAL);
	assert_string_equal(fld(&r, c), "");
	assert_int_equal(r.truncated, 0);
}

static void test_only_len_bytes(void **state)
{
	struct gg_request r;

	(void)state;
	gg_request_init(&r);
	assert_int_equal(gg_request_set(&r, GG_RF_SENDER, "alice@example.orgGARBAGE", 17), GG_OK);
	assert_string_equal(r.sender, "alice@example.org");
	assert_int_equal(gg_request_set(&r, GG_RF_SENDER, "", 0), GG_OK);	/* null sender */
	assert_string_equal(r.sender, "");
	assert_true(r.seen & (1u << GG_RF_SENDER));
}

static void test_flags_accumulate(void **state)
{
	struct gg_request r;
	char big[600];

	(void)state;
	gg_request_init(&r);
	fill(big, sizeof(big));
	assert_int_equal(gg_request_set(&r, GG_RF_HELO_NAME, big, sizeof(big)), GG_ETOOBIG);
	assert_int_equal(gg_request_set(&r, GG_RF_RECIPIENT, "bob@example.com", 15), GG_OK);
	assert_int_equal(gg_request_set(&r, GG_RF_SENDER, big, sizeof(big)), GG_ETOOBIG);
	assert_int_equal(r.seen, (1u << GG_RF_HELO_NAME) | (1u << GG_RF_RECIPIENT) | (1u << GG_RF_SENDER));
	assert_int_equal(r.truncated, (1u << GG_RF_HELO_NAME) | (1u << GG_RF_SENDER));
	/* Setting a field again with a short value keeps the flag: the request had junk. */
	assert_int_equal(gg_request_set(&r, GG_RF_SENDER, "a@b", 3), GG_OK);
	assert_true(r.truncated & (1u << GG_RF_SENDER));
}

static void test_bad_field(void **state)
{
	struct gg_request r;

	(void)state;
	gg_request_init(&r);
	assert_int_equal(gg_request_set(&r, GG_RF_COUNT, "x", 1), GG_EINVAL);
	assert_int_equal(gg_request_set(&r, (enum gg_req_field)-1, "x", 1), GG_EINVAL);
	assert_int_equal(r.seen, 0);
}

/* Stages */

struct stage_case {
	const char *state;
	enum gg_stage stage;
};

static const struct stage_case stage_cases[] = {
	{ "CONNECT", GG_STAGE_CONNECT },
	{ "EHLO", GG_STAGE_HELO },
	{ "HELO", GG_STAGE_HELO },
	{ "MAIL", GG_STAGE_MAIL },
	{ "RCPT", GG_STAGE_RCPT },
	{ "rcpt", GG_STAGE_RCPT },
	{ "DATA", GG_STAGE_DATA },
	{ "END-OF-MESSAGE", GG_STAGE_EOM },
	{ "VRFY", GG_STAGE_OTHER },
	{ "ETRN", GG_STAGE_OTHER },
	{ "", GG_STAGE_OTHER },
	{ "RCPT ", GG_STAGE_OTHER },
	{ "RCPTX", GG_STAGE_OTHER },
	{ "RCP", GG_STAGE_OTHER },
};

static void test_stage(void **state)
{
	const struct stage_case *c = *state;
	struct gg_request r;

	assert_int_equal(gg_request_stage(c->state), c->stage);
	/* Setting protocol_state sets the stage. */
	gg_request_init(&r);
	assert_int_equal(gg_request_set(&r, GG_RF_PROTOCOL_STATE, c->state, strlen(c->state)), GG_OK);
	assert_int_equal(r.stage, c->stage);
}

static void test_stage_follows_last_state(void **state)
{
	struct gg_request r;

	(void)state;
	gg_request_init(&r);
	assert_int_equal(gg_request_set(&r, GG_RF_PROTOCOL_STATE, "RCPT", 4), GG_OK);
	assert_int_equal(r.stage, GG_STAGE_RCPT);
	assert_int_equal(gg_request_set(&r, GG_RF_PROTOCOL_STATE, "DATA", 4), GG_OK);
	assert_int_equal(r.stage, GG_STAGE_DATA);
	/* Other fields do not touch the stage. */
	assert_int_equal(gg_request_set(&r, GG_RF_REQUEST, "RCPT", 4), GG_OK);
	assert_int_equal(r.stage, GG_STAGE_DATA);
}

int main(void)
{
	struct tu_suite s = { 0 };
	size_t i;

	tu_add(&s, test_init, NULL, "init: every field empty");
	for (i = 0; i < GG_ARRAY_LEN(fields); i++)
		tu_add(&s, test_fits, &fields[i], "%s: size - 1 bytes fit", fields[i].label);
	for (i = 0; i < GG_ARRAY_LEN(fields); i++)
		tu_add(&s, test_cut, &fields[i], "%s: over-long value cut and flagged", fields[i].label);
	for (i = 0; i < GG_ARRAY_LEN(fields); i++)
		tu_add(&s, test_nul, &fields[i], "%s: NUL refused", fields[i].label);
	tu_add(&s, test_only_len_bytes, NULL, "only len bytes are used; empty values are set");
	tu_add(&s, test_flags_accumulate, NULL, "seen and truncated accumulate per field");
	tu_add(&s, test_bad_field, NULL, "an unknown field is refused");
	for (i = 0; i < GG_ARRAY_LEN(stage_cases); i++)
		tu_add(&s, test_stage, &stage_cases[i], "stage: '%s'", stage_cases[i].state);
	tu_add(&s, test_stage_follows_last_state, NULL, "stage: follows the last protocol_state");
	return tu_run(&s, "t_request");
}
