/* ep_config_show: GET /api/v1/config — the running settings, for the system administrator. */
#include "server/server.h"

#include "audit/audit.h"

void
ep_config_show(struct srv_request *rq)
{
	const struct ink_config *c = &rq->srv->cfg;
	json_t *o;

	if (!auth_allowed(rq->who.roles, AUTH_PERM_CONFIG_READ)) {
		req_audit_refusal(rq, "config.read", "denied: role not permitted");
		reply_ink_err(rq, INK_ERR_DENIED, "Only the system administrator reads the configuration");
		return;
	}
	o = json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s}",
	              "listen_signer", c->listen_signer, "listen_admin", c->listen_admin,
	              "listen_public", c->listen_public, "plain_http", c->plain_http,
	              "max_body", (json_int_t)c->max_body, "threads", (json_int_t)c->threads,
	              "session_ttl", (json_int_t)c->session_ttl,
	              "max_login_failures", (json_int_t)c->max_login_failures,
	              "password_min_len", (json_int_t)c->password_min_len,
	              "argon2_memory_kib", (json_int_t)c->argon2_m_kib,
	              "argon2_iterations", (json_int_t)c->argon2_t,
	              "argon2_parallelism", (json_int_t)c->argon2_p,
	              "totp_window", (json_int_t)c->totp_window,
	              "service_name", c->service_name, "lang", c->lang);
	{
		struct audit_event ev = { .actor = rq->who.username, .role = "system_administrator",
		                          .action = "config.read", .result = AUDIT_SUCCESS,
		                          .request_id = rq->request_id, .source = rq->source };

		if (audit_append(rq->srv->st, &ev) != 0) {
			json_decref(o);
			reply_ink_err(rq, INK_ERR_STORE, NULL);
			return;
		}
	}
	reply_json(rq, MHD_HTTP_OK, o);
}
