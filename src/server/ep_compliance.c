/* ep_compliance: GET /api/v1/compliance — the ISO/IEC 27017 report of the running service for
 * the system auditor (docs/compliance.md): per control what the service does, the live evidence
 * and a verdict. What the SAM enforces is its own signed attestation, relayed unchanged; the
 * report is recorded in the audit log with its SHA-256. */
#include "server/server.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "ca/ca.h"
#include "policy/policy.h"
#include "sam/sam.h"
#include "store/store.h"

/* A TLS certificate this close to its end does not meet 9.1.2. */
#define TLS_MIN_DAYS 14

/* What each control is about, in both languages; `show` is what the operator must show when
 * the control is (also) organisational. */
struct control_text {
	const char *id, *title, *title_ja, *does, *does_ja;
};

static const struct control_text texts[] = {
	{ "9.1.2", "Access to networks and network services", "ネットワーク及びネットワークサービスへのアクセス",
	  "Every endpoint is served over TLS (1.3, or 1.2 with ECDHE and AEAD ciphers only) on the "
	  "listener of its class; everything but the public endpoints needs a bearer session.",
	  "全エンドポイントを TLS（1.3、又は ECDHE と AEAD 暗号のみの 1.2）で提供し、公開エンドポイント以外はセッションを要する。" },
	{ "9.2.1", "User registration and de-registration", "利用者登録及び登録削除",
	  "A registration officer registers a person in inkan-sam with a record of how the identity "
	  "was verified (one person, one registration) and deregisters them: keys destroyed, audit "
	  "trail kept.",
	  "登録担当者が本人確認の記録とともに inkan-sam に利用者を登録し、登録削除では鍵を破棄し監査証跡は残す。" },
	{ "9.2.2", "User access provisioning", "利用者アクセスの提供",
	  "Role-based access: each role has its own rights; a signer reaches only their own "
	  "credentials; roles are granted by a security officer and checked by inkan-sam.",
	  "役割に基づくアクセス制御。署名者は自分の鍵のみを使える。役割はセキュリティ責任者が付与し inkan-sam が確認する。" },
	{ "9.2.3", "Management of privileged access rights", "特権的アクセス権の管理",
	  "Separation of duties (EN 419 241-1 roles): nobody holds every privileged role, no "
	  "privileged account signs, the security officer is never auditor or registration officer.",
	  "職務の分離：全特権役割の兼任不可、特権アカウントは署名者になれない、セキュリティ責任者は監査者・登録担当者を兼ねない。" },
	{ "9.2.4", "Management of secret authentication information of users", "利用者の秘密認証情報の管理",
	  "Passwords only as Argon2id hashes, TOTP second factor, lockout after repeated failures; "
	  "signing PINs never stored, checked and counted by inkan-sam.",
	  "パスワードは Argon2id ハッシュのみ、TOTP による二要素、失敗時のロックアウト。署名 PIN は保存せず inkan-sam が検査・計数する。" },
	{ "9.4.1", "Information access restriction", "情報へのアクセス制限",
	  "Only the signer activates their key (PIN + fresh OTP -> SAD bound to the hashes, minted "
	  "by inkan-sam); only inkan-sam opens the key store.",
	  "鍵を活性化できるのは署名者本人のみ（PIN と OTP による SAD を inkan-sam が発行）。鍵ストアを開くのは inkan-sam のみ。" },
	{ "9.4.4", "Use of privileged utility programs", "特権的なユーティリティプログラムの使用",
	  "The SAM's utilities (master key split/join, bare-machine restore) act only on DATA/sam, "
	  "which under privilege separation only root and the SAM's user can reach.",
	  "SAM のユーティリティ（マスター鍵の分割・結合、ベアメタル復元）は DATA/sam にのみ作用し、特権分離下では root と SAM 用ユーザのみが触れられる。" },
	{ "10.1.1", "Policy on the use of cryptographic controls", "暗号による管理策の利用方針",
	  "Only CRYPTREC e-Government Recommended signature schemes (ECDSA P-256/384/521, EdDSA, "
	  "RSA-PKCS#1/PSS >= 2048) with SHA-2/SHA-3; RSA-2048 until 2030, as the level allows.",
	  "CRYPTREC 電子政府推奨暗号の署名方式のみ（ECDSA、EdDSA、RSA）。RSA-2048 は 2030 年まで、保証レベルが許す場合のみ。" },
	{ "10.1.2", "Key management", "鍵管理",
	  "Signing keys are made and kept by inkan-sam's key manager: sealed under the master key "
	  "and the signer's PIN (software), or generated in a PKCS#11 token and leaving it only "
	  "wrapped.",
	  "署名鍵は inkan-sam の鍵管理が生成・保管する：マスター鍵と署名者 PIN で封印（ソフトウェア）、又は PKCS#11 トークン内で生成しラップされた形でのみ外に出る。" },
	{ "11.2.7", "Secure disposal or re-use of equipment", "装置のセキュリティを保った処分又は再利用",
	  "Destroyed keys lose their sealed blob in the key store; copies on disks, backups and "
	  "tokens outside the running service are the operator's.",
	  "破棄された鍵は鍵ストアから封印データが消去される。ディスク・バックアップ・トークン等の処分は運用者の責任。" },
	{ "12.1.3", "Capacity management", "容量・能力の管理",
	  "Bounded work: connection limits per listener and source, Argon2id and validation slots "
	  "with fair queues, login and time-stamp rate limits; the load is measured (GET /metrics).",
	  "処理量の上限：接続数の制限、Argon2id と検証のスロットと公平な待ち行列、ログインとタイムスタンプのレート制限。" },
	{ "12.3.1", "Information backup", "情報のバックアップ",
	  "The system operator backs the key store up in its sealed state (no key usable without "
	  "its signer's PIN); backups are recorded in the audit log.",
	  "運用担当者が鍵ストアを封印状態のままバックアップする（署名者の PIN なしに鍵は使えない）。バックアップは監査ログに記録される。" },
	{ "12.4.1", "Event logging", "イベントログ取得",
	  "Every step of every signature and every access to a key is logged in a Merkle-tree log "
	  "whose checkpoints inkan-sam signs; the report re-verifies the whole log.",
	  "全署名の各段階と鍵への全アクセスを、inkan-sam が署名するチェックポイント付きのマークル木ログに記録。本報告はログ全体を再検証する。" },
	{ "12.4.3", "Administrator and operator logs", "実務管理者及び運用担当者の作業ログ",
	  "Every administrator's and operator's act is in the same log; inkan-sam's own records of "
	  "acts on keys and persons must be in it before it signs a checkpoint past them.",
	  "管理者・運用担当者の全操作を同じログに記録。inkan-sam 自身の記録が含まれない限りチェックポイントに署名しない。" },
	{ "12.4.4", "Clock synchronisation", "クロックの同期",
	  "The kernel's word on the clock (adjtimex) is audited at start and on change, jumps are "
	  "audited; the TSA can refuse on an unsynchronised clock.",
	  "カーネルの時刻同期状態（adjtimex）を起動時と変化時に監査し、時刻の跳びも記録。非同期時に TSA が拒否する設定がある。" },
	{ "12.6.1", "Management of technical vulnerabilities", "技術的ぜい弱性の管理",
	  "The report names the versions of the libraries in use; updating them is the operator's.",
	  "使用中のライブラリのバージョンを示す。更新は運用者の責任。" },
	{ "13.1.3", "Segregation in networks", "ネットワークの分離",
	  "Signer API, administration API and public endpoints can listen on different addresses.",
	  "署名者 API、管理 API、公開エンドポイントを別々のアドレスで待ち受けられる。" },
	{ "16.1.2", "Reporting information security events", "情報セキュリティ事象の報告",
	  "Security events (lockouts, refusals, clock, SAM death) are in the audit log and raised as "
	  "alerts to the journal (stable MESSAGE_IDs) or syslog (docs/operations.md); who watches "
	  "them and how events are reported is the operator's.",
	  "セキュリティ事象（ロックアウト、拒否、時刻、SAM の停止）は監査ログにあり、journal（固定の MESSAGE_ID）または syslog に警報として送られる。監視と報告の体制は運用者の責任。" },
	{ "16.1.7", "Collection of evidence", "証拠の収集",
	  "The audit log can be exported with its proofs and verified offline against the "
	  "published log key (DATA/ca/audit-log.pem).",
	  "監査ログは証明とともにエクスポートでき、公開されたログ鍵でオフライン検証できる。" },
	{ "18.1.3", "Protection of records", "記録の保護",
	  "Audit records are never updated or deleted; the tree and signed checkpoints make any "
	  "change evident; old records are also archived, signed, when audit_retention is set.",
	  "監査記録は更新・削除されない。木構造と署名付きチェックポイントにより改ざんが検出できる。" },
	{ "18.1.5", "Regulation of cryptographic controls", "暗号化機能に対する規制",
	  "Only CRYPTREC-listed algorithms; whether their use is regulated where the service runs "
	  "is the operator's to establish.",
	  "CRYPTREC 掲載のアルゴリズムのみ使用。運用地域での規制への適合は運用者が確認する。" },
	{ "privsep", "Privilege separation (DESIGN.md 3.1; bears on 9.4.1, 9.4.4)", "特権の分離（9.4.1・9.4.4 関連）",
	  "inkand and inkan-sam run as two different Unix users, neither root, so that a compromised "
	  "web process cannot read the master key or key store nor change what the SAM reads.",
	  "inkand と inkan-sam を root 以外の別々の Unix ユーザで動かし、Web プロセスが侵害されてもマスター鍵・鍵ストアを読めず SAM の読むファイルを変更できないようにする。" },
};

enum ctl {
	C_912, C_921, C_922, C_923, C_924, C_941, C_944, C_1011, C_1012, C_1127, C_1213, C_1231,
	C_1241, C_1243, C_1244, C_1261, C_1313, C_1612, C_1617, C_1813, C_1815, C_PRIVSEP, C_N_
};

struct report {
	const struct ink_config *cfg;
	json_t *claims;       /* the SAM's, verified */
	json_t *controls;
	int met, not_met, organisational;
};

/* Where security alerts go now (common/alert.c): the journal where its socket is, else syslog. */
static const char *
alert_destination(const struct ink_config *c)
{
	struct stat st;

	if (c->alert_journal_socket[0] != '\0' && stat(c->alert_journal_socket, &st) == 0 &&
	    S_ISSOCK(st.st_mode))
		return "journal";
	if (c->alert_syslog_socket[0] != '\0' && stat(c->alert_syslog_socket, &st) == 0 &&
	    S_ISSOCK(st.st_mode))
		return "syslog";
	return "none: the daemons' log lines only (no journal or syslog socket)";
}

static const char *
claim(const struct report *rp, const char *name)
{
	return audit_claim(rp->claims, name);
}

static long long
claim_num(const struct report *rp, const char *name)
{
	return audit_claim_num(rp->claims, name);
}

/* An evidence item the SAM signed: the CLI checks it against the attestation. */
static json_t *
ev_sam(const struct report *rp, const char *name)
{
	return json_pack("{s:s, s:s, s:s}", "source", "inkan-sam", "claim", name, "value",
	                 claim(rp, name));
}

/* An evidence item inkand read itself (value reference stolen). */
static json_t *
ev_here(const char *name, json_t *value)
{
	return json_pack("{s:s, s:s, s:o}", "source", "inkand", "name", name, "value",
	                 value != NULL ? value : json_null());
}

enum verdict { MET, NOT_MET, ORGANISATIONAL };

/* Adds control c with its verdict, the note (what would meet it; what the operator must show;
 * a remark) and its evidence (reference stolen; NULL items are dropped by json_pack's "o?"). */
static void INK_PRINTF(4, 5)
control(struct report *rp, enum ctl c, enum verdict v, const char *fmt, ...)
{
	static const char *const names[] = { "met", "not_met", "organisational" };
	static const char *const ja[] = { "適合", "不適合", "組織的管理策（ソフトウェア外）" };
	const struct control_text *t = &texts[c];
	char note[1024];
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[]}", "id", t->id, "title", t->title,
	              "title_ja", t->title_ja, "does", t->does, "does_ja", t->does_ja,
	              "verdict", names[v], "verdict_ja", ja[v],
	              v == MET ? "remark" : v == NOT_MET ? "to_meet" : "operator_must_show", note,
	              "evidence");
	if (o != NULL)
		json_array_append_new(rp->controls, o);
	if (v == MET)
		rp->met++;
	else if (v == NOT_MET)
		rp->not_met++;
	else
		rp->organisational++;
}

/* Appends evidence (reference stolen) to the control added last. */
static void
evidence(struct report *rp, json_t *e)
{
	json_t *last = json_array_get(rp->controls, json_array_size(rp->controls) - 1);

	if (e == NULL)
		return;
	if (last == NULL || json_array_append_new(json_object_get(last, "evidence"), e) != 0)
		json_decref(e);
}

/* Control c as the SAM's signed claims decide it (audit_sam_verdict: the same rules the
 * auditor's CLI recomputes); false when they find it not met. */
static bool
sam_control(struct report *rp, enum ctl c, bool add)
{
	char note[512];
	bool met = false, whole = false;

	if (audit_sam_verdict(rp->claims, texts[c].id, &met, &whole, note, sizeof(note)) != 0) {
		log_bug("no rule for control %s", texts[c].id);
		snprintf(note, sizeof(note), "no rule");
		met = false;
	}
	if (add || !met)
		control(rp, c, met ? MET : NOT_MET, "%s", note);
	return met;
}

/* ---- what inkand reads itself ---- */

/* The real uid of a process as the kernel reports it (/proc/PID/status), -1 if unknown. */
static long
proc_uid(pid_t pid)
{
	char path[64], line[256];
	long uid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Uid:", 4) == 0) {
			uid = strtol(line + 4, NULL, 10);
			break;
		}
	fclose(f);
	return uid;
}

struct log_scan {
	int64_t last_backup;            /* time of the last successful backup, 0 none */
	int64_t sam_records, admin_records, security_events;
};

static int
scan_record(void *arg, const struct store_audit_rec *rec)
{
	struct log_scan *ls = arg;
	bool ok = strcmp(rec->result, AUDIT_SUCCESS) == 0;

	if (ok && (strcmp(rec->action, "sam.backup") == 0 || strcmp(rec->action, "backup.create") == 0))
		ls->last_backup = rec->time > ls->last_backup ? rec->time : ls->last_backup;
	if (strncmp(rec->action, "sam.", 4) == 0)
		ls->sam_records++;
	if (rec->role[0] != '\0' && strstr(rec->role, "signer") == NULL)
		ls->admin_records++;
	if (!ok || strncmp(rec->action, "clock.", 6) == 0 || strcmp(rec->action, "audit.refusals") == 0)
		ls->security_events++;
	return 0;
}

/* Accounts by role, as inkand's account store has them (the SAM's counts are attested). */
static json_t *
role_holders(struct store *st)
{
	struct store_user *u = NULL;
	size_t n = 0, i;
	uint32_t bit;
	json_t *o = json_object();

	if (o == NULL || st->ops->user_list(st, &u, &n) != 0)
		return o;
	for (bit = 1; bit <= AUTH_ROLE_SIGNER; bit <<= 1) {
		json_t *a = json_array();

		for (i = 0; i < n; i++)
			if ((u[i].roles & bit) != 0 && u[i].status != STORE_USER_DISABLED)
				json_array_append_new(a, json_string(u[i].username));
		json_object_set_new(o, auth_role_name(bit), a);
	}
	store_users_free(u, n);
	return o;
}

/* ---- the controls ---- */

static void
access_controls(struct report *rp, const struct ca_cert_facts *tls, int64_t now)
{
	const struct ink_config *c = rp->cfg;
	int64_t days = tls->present ? (tls->not_after - now) / 86400 : -1;

	if (c->plain_http)
		control(rp, C_912, NOT_MET, "plain_http is on: set plain_http = false (TLS)");
	else if (!tls->present || days < TLS_MIN_DAYS)
		control(rp, C_912, NOT_MET, "the TLS certificate ends in %lld days: renew tls_cert",
		        (long long)days);
	else
		control(rp, C_912, MET, "TLS certificate valid for %lld more days", (long long)days);
	evidence(rp, ev_here("tls.priorities", json_string(SRV_TLS_PRIORITIES)));
	evidence(rp, ev_here("tls.certificate_days_left", json_integer(days)));
	evidence(rp, ev_here("settings.plain_http", json_boolean(c->plain_http)));

	(void)sam_control(rp, C_921, true);
	evidence(rp, ev_sam(rp, "persons"));
	evidence(rp, ev_sam(rp, "persons_registration_officer"));
	evidence(rp, ev_sam(rp, "persons_signer"));

	(void)sam_control(rp, C_922, true);
	evidence(rp, ev_sam(rp, "privileged_signers"));
	evidence(rp, ev_here("roles", NULL));

	(void)sam_control(rp, C_923, true);
	evidence(rp, ev_sam(rp, "all_privileged_roles_held"));
	evidence(rp, ev_sam(rp, "security_officer_conflicts"));
	evidence(rp, ev_sam(rp, "persons_security_officer"));
	evidence(rp, ev_sam(rp, "persons_system_auditor"));

	/* the SAM's attempt limits first (the CLI checks that part), then inkand's password rule */
	if (!sam_control(rp, C_924, false))
		;
	else if (c->password_min_len < 12)
		control(rp, C_924, NOT_MET, "set password_min_len to 12 or more");
	else
		(void)sam_control(rp, C_924, true);
	evidence(rp, ev_here("settings.password_min_len", json_integer(c->password_min_len)));
	evidence(rp, ev_here("settings.argon2_memory_kib", json_integer(c->argon2_m_kib)));
	evidence(rp, ev_sam(rp, "max_login_failures"));
	evidence(rp, ev_sam(rp, "pin_max_failures"));
	evidence(rp, ev_sam(rp, "totp_window"));

	(void)sam_control(rp, C_941, true);
	evidence(rp, ev_sam(rp, "assurance_level"));
	evidence(rp, ev_sam(rp, "sad_ttl"));
	evidence(rp, ev_sam(rp, "multisign"));
	evidence(rp, ev_sam(rp, "pin_min_len"));
}

/* Privilege separation as configured and as the kernel shows the processes. */
static bool
privsep_control(struct report *rp, struct srv *s)
{
	const struct ink_config *c = rp->cfg;
	pid_t sam_pid = sam_client_pid(s->sam);
	long sam_uid = proc_uid(sam_pid), here = (long)getuid();
	long sam_claimed = claim_num(rp, "uid");
	bool met = false;

	if (c->user[0] == '\0' || c->sam_user[0] == '\0')
		control(rp, C_PRIVSEP, NOT_MET, "%s is not set: start inkand as root with user and "
		        "sam_user set to two dedicated Unix users (docs/architecture.md, \"Privilege "
		        "separation\")", c->user[0] == '\0' ? "user" : "sam_user");
	else if (!sam_control(rp, C_PRIVSEP, false))
		;   /* inkan-sam says it runs as root */
	else if (here == 0 || sam_uid <= 0 || sam_claimed <= 0 || here == sam_uid ||
	         sam_uid != sam_claimed)
		control(rp, C_PRIVSEP, NOT_MET, "the processes do not run as configured (inkand uid %ld, "
		        "inkan-sam uid %ld, the SAM says %ld): restart inkand as root", here, sam_uid,
		        sam_claimed);
	else {
		control(rp, C_PRIVSEP, MET, "inkand runs as uid %ld, inkan-sam as uid %ld", here, sam_uid);
		met = true;
	}
	evidence(rp, ev_here("settings.user", json_string(c->user)));
	evidence(rp, ev_here("settings.sam_user", json_string(c->sam_user)));
	evidence(rp, ev_here("processes.inkand.uid", json_integer(here)));
	evidence(rp, ev_here("processes.inkan_sam.uid", json_integer(sam_uid)));
	evidence(rp, ev_sam(rp, "uid"));
	evidence(rp, ev_sam(rp, "master_key_file"));
	return met;
}

static void
crypto_controls(struct report *rp, bool privsep)
{
	const char *backend = claim(rp, "key_backend");

	if (privsep)
		control(rp, C_944, MET, "only root and the SAM's user reach DATA/sam; who may log in as "
		        "them is organisational");
	else
		control(rp, C_944, NOT_MET, "without privilege separation inkand's user can run the "
		        "SAM's utilities on DATA/sam: set user and sam_user");
	evidence(rp, ev_sam(rp, "sam_dir"));

	(void)sam_control(rp, C_1011, true);
	evidence(rp, ev_sam(rp, "credentials"));
	evidence(rp, ev_sam(rp, "rsa2048"));

	(void)sam_control(rp, C_1012, true);
	evidence(rp, ev_sam(rp, "key_backend"));
	evidence(rp, ev_sam(rp, "pkcs11_token_kind"));
	if (strcmp(backend, "pkcs11") == 0) {
		evidence(rp, ev_sam(rp, "pkcs11_token_manufacturer"));
		evidence(rp, ev_sam(rp, "pkcs11_token_model"));
		evidence(rp, ev_sam(rp, "pkcs11_token_label"));
	}
	evidence(rp, ev_sam(rp, "master_key_file"));
	evidence(rp, ev_sam(rp, "credentials_usable"));

	control(rp, C_1127, ORGANISATIONAL, "how disks, backup media and tokens are wiped or "
	        "zeroised before disposal or re-use (records of it)");
	evidence(rp, ev_sam(rp, "credentials"));
}

/* A control whose verdict is the audit log's verification: met (with remark) when it verifies. */
static void
log_control(struct report *rp, enum ctl c, int verified, const char *verr, const char *remark)
{
	if (verified != 0)
		control(rp, c, NOT_MET, "the audit log does not verify: %s — investigate with inkan "
		        "audit verify", verr);
	else
		control(rp, c, MET, "%s", remark);
}

/* The load the service carries now and has carried since it started (the metrics' view). */
static json_t *
load_evidence(struct srv *s, int64_t now)
{
	struct srv_load ld;
	struct sam_load sl;
	json_t *conns = json_array();
	size_t i;

	srv_limits_load(s, &ld);
	sam_client_load(s->sam, &sl);
	for (i = 0; i < s->nls && conns != NULL; i++)
		json_array_append_new(conns, json_pack("{s:s, s:i}", "listener", s->ls[i].bound,
		                                       "open", (int)ld.connections[i]));
	return json_pack("{s:I, s:I, s:o?, s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i},"
	                 " s:I}",
	                 "uptime_seconds", (json_int_t)(now - s->started_at),
	                 "requests_answered", (json_int_t)srv_metrics_requests_total(),
	                 "connections", conns,
	                 "sam_channels", "total", (int)sl.channels, "busy", (int)sl.busy,
	                 "waiting", (int)sl.waiting,
	                 "argon2_slots", "total", (int)ld.slots[SRV_GATE_ARGON2],
	                 "in_use", (int)ld.busy[SRV_GATE_ARGON2], "waiting", (int)ld.waiting[SRV_GATE_ARGON2],
	                 "verify_slots", "total", (int)ld.slots[SRV_GATE_VERIFY],
	                 "in_use", (int)ld.busy[SRV_GATE_VERIFY], "waiting", (int)ld.waiting[SRV_GATE_VERIFY],
	                 "request_body_bytes", (json_int_t)ld.body_bytes);
}

static void
ops_controls(struct report *rp, struct srv *s, const struct log_scan *ls, int verified,
             const char *verr, const struct store_checkpoint *cp, int64_t now)
{
	const struct ink_config *c = rp->cfg;
	int64_t backup_max = c->backup_max_age_days * 86400;
	struct ink_clock ck;
	int ckr = ink_clock_state(&ck);

	if (c->tsa_rate > 0 && c->tsa_client_rate > 0)
		control(rp, C_1213, MET, "every kind of work is bounded; the load now and since the "
		        "start is in the evidence, and over time at GET /metrics (listen_metrics); "
		        "watching it is the operator's");
	else
		control(rp, C_1213, NOT_MET, "set tsa_rate and tsa_client_rate above 0");
	evidence(rp, ev_here("settings.max_connections", json_integer(c->max_connections)));
	evidence(rp, ev_here("settings.max_connections_per_source",
	                     json_integer(c->max_connections_per_source)));
	evidence(rp, ev_here("settings.argon2_slots", json_integer((json_int_t)config_slots(c->argon2_slots))));
	evidence(rp, ev_here("settings.login_rate", json_integer(c->login_rate)));
	evidence(rp, ev_here("settings.tsa_rate", json_integer(c->tsa_rate)));
	evidence(rp, ev_here("load", load_evidence(s, now)));

	if (ls->last_backup == 0)
		control(rp, C_1231, NOT_MET, "no backup in the audit log: the system operator runs "
		        "inkan backup create and keeps it off the machine");
	else if (now - ls->last_backup > backup_max)
		control(rp, C_1231, NOT_MET, "the last backup is %lld days old, more than "
		        "backup_max_age_days (%lld): make a new one",
		        (long long)((now - ls->last_backup) / 86400), (long long)c->backup_max_age_days);
	else
		control(rp, C_1231, MET, "last backup %lld hours ago; keeping copies off the machine "
		        "is the operator's", (long long)((now - ls->last_backup) / 3600));
	evidence(rp, ev_here("backup.last", ls->last_backup > 0 ? json_integer(ls->last_backup) : NULL));
	evidence(rp, ev_here("settings.backup_max_age_days", json_integer(c->backup_max_age_days)));

	if (verified == 0 && cp->size == 0)
		control(rp, C_1241, NOT_MET, "no signed checkpoint yet");
	else
		log_control(rp, C_1241, verified, verr, "the whole log verifies under the SAM's log key");
	evidence(rp, ev_here("audit_log.verified", json_boolean(verified == 0)));
	evidence(rp, ev_here("audit_log.last_checkpoint.size", json_integer(cp->size)));
	evidence(rp, ev_here("audit_log.last_checkpoint.time", json_integer(cp->time)));
	evidence(rp, ev_sam(rp, "log_key_sha256"));

	log_control(rp, C_1243, verified, verr,
	            "officers' acts and inkan-sam's own records are in the verified log");
	evidence(rp, ev_here("audit_log.sam_records", json_integer(ls->sam_records)));
	evidence(rp, ev_here("audit_log.privileged_records", json_integer(ls->admin_records)));

	if (ckr != 0)
		control(rp, C_1244, NOT_MET, "the kernel does not report the clock's state");
	else if (!ck.synced || ck.maxerror_us > INK_CLOCK_ACCURACY_US)
		control(rp, C_1244, NOT_MET, "the clock is not synchronised (maximum error %lld ms): run "
		        "an NTP client (chrony, systemd-timesyncd)", (long long)(ck.maxerror_us / 1000));
	else
		control(rp, C_1244, MET, "synchronised, maximum error %lld ms",
		        (long long)(ck.maxerror_us / 1000));
	evidence(rp, ev_here("clock.synchronised", ckr == 0 ? json_boolean(ck.synced) : NULL));
	evidence(rp, ev_here("clock.maxerror_us", ckr == 0 ? json_integer(ck.maxerror_us) : NULL));
	evidence(rp, ev_sam(rp, "clock"));
	evidence(rp, ev_sam(rp, "tsa_requires_synced_clock"));

	control(rp, C_1261, ORGANISATIONAL, "how security updates of these libraries and of inkan "
	        "are followed and applied (e.g. Debian security updates), and when");
	evidence(rp, ev_here("versions", NULL));
	evidence(rp, ev_sam(rp, "openssl_version"));
}

static void
record_controls(struct report *rp, const struct log_scan *ls, int verified, const char *verr)
{
	const struct ink_config *c = rp->cfg;

	if (strcmp(c->listen_admin, c->listen_signer) != 0 && strcmp(c->listen_admin, c->listen_public) != 0)
		control(rp, C_1313, MET, "the administration API has an address of its own");
	else
		control(rp, C_1313, NOT_MET, "the administration API shares an address: set "
		        "listen_admin (and listen_public) to addresses of their own");
	evidence(rp, ev_here("settings.listen_signer", json_string(c->listen_signer)));
	evidence(rp, ev_here("settings.listen_admin", json_string(c->listen_admin)));
	evidence(rp, ev_here("settings.listen_public", json_string(c->listen_public)));
	evidence(rp, ev_here("settings.listen_metrics", json_string(c->listen_metrics)));

	control(rp, C_1612, ORGANISATIONAL, "who reviews the audit log's security events, how "
	        "often, and how they are reported and escalated");
	evidence(rp, ev_here("audit_log.security_events", json_integer(ls->security_events)));
	evidence(rp, ev_here("alerts.destination", json_string(alert_destination(c))));

	log_control(rp, C_1617, verified, verr, "exports verify offline against the published log key");
	evidence(rp, ev_sam(rp, "log_key_sha256"));

	log_control(rp, C_1813, verified, verr, "records are append-only and verified");
	evidence(rp, ev_here("settings.audit_retention", json_integer(c->audit_retention)));

	control(rp, C_1815, ORGANISATIONAL, "that the use, import and export of these algorithms "
	        "is lawful where the service and its users are");
	evidence(rp, ev_sam(rp, "credentials"));
}

/* database: the engine inkand's data is in (SQLite or a PostgreSQL server); sqlite: the
 * library linked, which the SAM's key store uses either way. */
static json_t *
versions(struct store *st)
{
	char db[96];

	st->ops->engine(st, db, sizeof(db));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}",
	                 "openssl", OpenSSL_version(OPENSSL_VERSION), "sqlite", store_engine_version(),
	                 "database", db, "libmicrohttpd", MHD_get_version(),
	                 "jansson", jansson_version_str(),
	                 "argon2_algorithm_version", (int)ARGON2_VERSION_NUMBER);
}

/* Replaces the evidence items named name (a placeholder with a null value) with value. */
static void
fill(json_t *controls, const char *name, json_t *value)
{
	json_t *ctl, *e;
	size_t i, j;

	json_array_foreach(controls, i, ctl) {
		json_array_foreach(json_object_get(ctl, "evidence"), j, e) {
			if (strcmp(json_string_value(json_object_get(e, "name")) != NULL ?
			           json_string_value(json_object_get(e, "name")) : "", name) == 0)
				json_object_set(e, "value", value);
		}
	}
	json_decref(value);
}

void
ep_compliance(struct srv_request *rq)
{
	struct srv *s = rq->srv;
	struct report rp = { .cfg = &s->cfg };
	struct audit_verify_report vr;
	struct store_checkpoint cp;
	struct log_scan ls = { 0 };
	struct ca_cert_facts tls;
	uint8_t nonce[16], *sig = NULL, *spki = NULL, dig[32];
	size_t sig_len = 0, spki_len = 0;
	char *text = NULL, *out = NULL, sighex[2 * AUDIT_SIG_MAX + 1], fpr[AUDIT_FPR_HEX];
	char hash[65], when[21], detail[128];
	json_t *o = NULL, *sam = NULL;
	int64_t now = ink_now();
	int r, verified;
	bool privsep;

	if (!auth_allowed(rq->who.roles, AUTH_PERM_AUDIT_READ)) {
		req_audit_refusal(rq, "compliance.report", "denied: role not permitted");
		reply_ink_err(rq, INK_ERR_DENIED, "Only the system auditor reads the compliance report");
		return;
	}
	if ((r = ink_random(nonce, sizeof(nonce))) != 0 ||
	    (r = sam_attest(s->sam, nonce, sizeof(nonce), &text, &sig, &sig_len, &spki, &spki_len)) != 0)
		goto fail;
	/* the SAM's word, checked here too: the auditor's CLI checks it again against the key
	 * it pins */
	if (audit_attest_verify(text, sig, sig_len, spki, spki_len) != 0 ||
	    audit_attest_parse(text, &rp.claims) != 0) {
		r = INK_ERR_CRYPTO;
		goto fail;
	}
	verified = audit_store_verify(s->st, spki, spki_len, scan_record, &ls, &cp, &vr);
	ca_cert_facts(s->cfg.plain_http ? NULL : s->tls_cert, &tls);
	if ((rp.controls = json_array()) == NULL) {
		r = INK_ERR_ALLOC;
		goto fail;
	}
	access_controls(&rp, &tls, now);
	privsep = privsep_control(&rp, s);
	crypto_controls(&rp, privsep);
	ops_controls(&rp, s, &ls, verified, vr.error, &cp, now);
	record_controls(&rp, &ls, verified, vr.error);
	fill(rp.controls, "roles", role_holders(s->st));
	fill(rp.controls, "versions", versions(s->st));
	hex_encode(sig, sig_len, sighex);
	audit_key_fingerprint(spki, spki_len, fpr);
	ink_time_str(now, when);
	sam = json_pack("{s:s, s:s, s:s, s:O}", "attestation", text, "signature", sighex,
	                "log_key_sha256", fpr, "claims", rp.claims);
	o = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:{s:i, s:i, s:i}, s:{s:o, s:{s:{s:I, s:I, s:I},"
	              " s:{s:I, s:I}}, s:{s:b, s:I, s:I, s:s, s:s}, s:{s:b, s:I, s:I, s:I, s:s}}}",
	              "format", "inkan-compliance-1", "generated_at", when,
	              "service", s->cfg.service_name, "assurance_level", (json_int_t)s->cfg.assurance_level,
	              "sam", sam, "controls", rp.controls,
	              "summary", "met", rp.met, "not_met", rp.not_met, "organisational", rp.organisational,
	              "evidence", "versions", versions(s->st), "processes", "inkand", "pid", (json_int_t)getpid(),
	              "uid", (json_int_t)getuid(), "euid", (json_int_t)geteuid(),
	              "inkan_sam", "pid", (json_int_t)sam_client_pid(s->sam),
	              "uid", (json_int_t)proc_uid(sam_client_pid(s->sam)),
	              "tls", "enabled", !s->cfg.plain_http, "certificate_not_after", (json_int_t)tls.not_after,
	              "certificate_days_left", (json_int_t)(tls.present ? (tls.not_after - now) / 86400 : -1),
	              "certificate_key", tls.key, "priorities", SRV_TLS_PRIORITIES,
	              "audit_log", "verified", verified == 0, "records", (json_int_t)vr.records,
	              "last_checkpoint_size", (json_int_t)cp.size,
	              "last_checkpoint_time", (json_int_t)cp.time, "error", vr.error);
	rp.controls = NULL;
	sam = NULL;
	if (o == NULL || (out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		r = INK_ERR_ALLOC;
		goto fail;
	}
	/* the record names exactly the bytes the auditor receives */
	SHA256((const uint8_t *)out, strlen(out), dig);
	hex_encode(dig, sizeof(dig), hash);
	snprintf(detail, sizeof(detail), "sha256 %s; met %d, not met %d, organisational %d", hash,
	         rp.met, rp.not_met, rp.organisational);
	{
		struct audit_event ev = { .actor = rq->who.username, .role = "system_auditor",
		                          .action = "compliance.report", .result = AUDIT_SUCCESS,
		                          .detail = detail, .request_id = rq->request_id,
		                          .source = rq->source };

		if ((r = audit_append(s->st, &ev)) != 0)
			goto fail;
	}
	reply_json_dumped(rq, MHD_HTTP_OK, out);
	out = NULL;
	goto done;
fail:
	log_warn("compliance report: %s", ink_err_str(r));
	reply_ink_err(rq, r, NULL);
done:
	json_text_free(out);
	json_decref(o);
	json_decref(sam);
	json_decref(rp.controls);
	json_decref(rp.claims);
	free(text);
	free(sig);
	free(spki);
}
