/*
 * request.c - bounded request fields (see request.h)
 */
#include <string.h>
#include <strings.h>

#include "engine/request.h"
#include "lib/util.h"

/* gg_request_init - all fields empty */
void gg_request_init(struct gg_request *r)
{
	r->client_address[0] = r->client_name[0] = r->reverse_client_name[0] = '\0';
	r->helo_name[0] = r->sender[0] = r->recipient[0] = r->instance[0] = '\0';
	r->queue_id[0] = r->sasl_username[0] = r->protocol_state[0] = r->request[0] = '\0';
	r->stage = GG_STAGE_OTHER;
	r->seen = 0;
	r->truncated = 0;
}

static char *field(struct gg_request *r, enum gg_req_field f, size_t *size)
{
#define F(x) *size = sizeof(r->x); return r->x
	switch (f) {
	case GG_RF_CLIENT_ADDRESS:	F(client_address);
	case GG_RF_CLIENT_NAME:		F(client_name);
	case GG_RF_REVERSE_CLIENT_NAME:	F(reverse_client_name);
	case GG_RF_HELO_NAME:		F(helo_name);
	case GG_RF_SENDER:		F(sender);
	case GG_RF_RECIPIENT:		F(recipient);
	case GG_RF_INSTANCE:		F(instance);
	case GG_RF_QUEUE_ID:		F(queue_id);
	case GG_RF_SASL_USERNAME:	F(sasl_username);
	case GG_RF_PROTOCOL_STATE:	F(protocol_state);
	case GG_RF_REQUEST:		F(request);
	default:			break;
	}
#undef F
	*size = 0;
	return NULL;
}

/* gg_request_set - bounded field assignment */
enum gg_status gg_request_set(struct gg_request *r, enum gg_req_field f, const char *v, size_t len)
{
	size_t size;
	char *dst = field(r, f, &size);

	if (dst == NULL)
		return GG_EINVAL;
	if (memchr(v, '\0', len) != NULL) {
		dst[0] = '\0';
		return GG_EINVAL;
	}
	r->seen |= 1u << f;
	if (len >= size) {
		/* Keep the prefix: a long HELO or address must not dodge greylisting. */
		memcpy(dst, v, size - 1);
		dst[size - 1] = '\0';
		r->truncated |= 1u << f;
		return GG_ETOOBIG;
	}
	memcpy(dst, v, len);
	dst[len] = '\0';
	if (f == GG_RF_PROTOCOL_STATE)
		r->stage = gg_request_stage(dst);
	return GG_OK;
}

/* gg_request_stage - Postfix protocol_state names */
enum gg_stage gg_request_stage(const char *state)
{
	static const struct { const char *name; enum gg_stage stage; } map[] = {
		{ "CONNECT", GG_STAGE_CONNECT }, { "EHLO", GG_STAGE_HELO }, { "HELO", GG_STAGE_HELO },
		{ "MAIL", GG_STAGE_MAIL }, { "RCPT", GG_STAGE_RCPT }, { "DATA", GG_STAGE_DATA },
		{ "END-OF-MESSAGE", GG_STAGE_EOM },
	};

	for (size_t i = 0; i < GG_ARRAY_LEN(map); i++)
		if (strcasecmp(state, map[i].name) == 0)
			return map[i].stage;
	return GG_STAGE_OTHER;
}
