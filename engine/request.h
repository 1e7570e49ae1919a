/*
 * request.h - one MTA question, as every front end hands it to the engine
 *
 * Front ends (policy protocol, milter, greygate-check) fill the raw fields
 * with gg_request_set(), which bounds every value; the engine does all the
 * normalisation.  A value that does not fit its field is cut to the field
 * and flagged in `truncated`, so junk cannot dodge greylisting by length;
 * the front end decides whether that is an error (it is for the client
 * address).
 */
#ifndef GG_REQUEST_H
#define GG_REQUEST_H

#include "lib/addr.h"
#include "engine/triplet.h"

enum gg_stage { GG_STAGE_OTHER = 0, GG_STAGE_CONNECT, GG_STAGE_HELO, GG_STAGE_MAIL,
		GG_STAGE_RCPT, GG_STAGE_DATA, GG_STAGE_EOM };

enum gg_req_field {
	GG_RF_CLIENT_ADDRESS, GG_RF_CLIENT_NAME, GG_RF_REVERSE_CLIENT_NAME, GG_RF_HELO_NAME,
	GG_RF_SENDER, GG_RF_RECIPIENT, GG_RF_INSTANCE, GG_RF_QUEUE_ID, GG_RF_SASL_USERNAME,
	GG_RF_PROTOCOL_STATE, GG_RF_REQUEST, GG_RF_COUNT
};

struct gg_request {
	char client_address[GG_ADDR_STRLEN];
	char client_name[256];
	char reverse_client_name[256];
	char helo_name[256];
	char sender[GG_ADDRESS_MAX + 1];
	char recipient[GG_ADDRESS_MAX + 1];
	char instance[128];
	char queue_id[64];
	char sasl_username[256];
	char protocol_state[32];
	char request[64];
	enum gg_stage stage;
	unsigned seen;		/* bit per enum gg_req_field that was set */
	unsigned truncated;	/* bit per field that was cut to fit */
};

/* Empty request. */
void gg_request_init(struct gg_request *r);
/* Set a field from len bytes; GG_ETOOBIG if it was cut to fit, GG_EINVAL on a NUL byte. */
enum gg_status gg_request_set(struct gg_request *r, enum gg_req_field f, const char *v, size_t len);
/* Map a Postfix protocol_state ("RCPT", "END-OF-MESSAGE", ...) to a stage. */
enum gg_stage gg_request_stage(const char *state);

#endif
