/* SPDX-License-Identifier: BSD-3-Clause */
/* privs.c: switching the process to an unprivileged user and group, and owning created files. */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A decimal id that fits uid_t / gid_t (not -1, which means "unchanged" to the kernel). */
static bool parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *out < 0xffffffffUL;
}

int privs_user(const char *s, struct privs_id *id, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	unsigned long n;
	bool numeric = parse_id(s, &n);
	int rc;

	if (numeric)
		rc = getpwuid_r((uid_t)n, &pw, buf, sizeof(buf), &res);
	else
		rc = getpwnam_r(s, &pw, buf, sizeof(buf), &res);
	if (!res && !numeric) {
		snprintf(err, errlen, "no such user '%s'%s%s", s, rc ? ": " : "", rc ? strerror(rc) : "");
		return -1;
	}
	id->has_uid = true;
	id->uid = res ? res->pw_uid : (uid_t)n;
	id->user_has_gid = res != NULL;
	id->user_gid = res ? res->pw_gid : 0;
	return 0;
}

int privs_group(const char *s, struct privs_id *id, char *err, size_t errlen)
{
	struct group gr, *res = NULL;
	char buf[8192];
	unsigned long n;
	int rc;

	if (parse_id(s, &n)) {
		id->has_gid = true;
		id->gid = (gid_t)n;
		return 0;
	}
	rc = getgrnam_r(s, &gr, buf, sizeof(buf), &res);
	if (!res) {
		snprintf(err, errlen, "no such group '%s'%s%s", s, rc ? ": " : "", rc ? strerror(rc) : "");
		return -1;
	}
	id->has_gid = true;
	id->gid = res->gr_gid;
	return 0;
}

int privs_drop(const struct privs_id *id, char *err, size_t errlen)
{
	uid_t was = geteuid();

	if (id->has_gid) {
		/* only root may change its groups; a non-root process that is already there is fine */
		if (was == 0 && setgroups(1, &id->gid) < 0) {
			snprintf(err, errlen, "setgroups(%u): %s", (unsigned)id->gid, strerror(errno));
			return -1;
		}
		if (setgid(id->gid) < 0) {
			snprintf(err, errlen, "setgid(%u): %s", (unsigned)id->gid, strerror(errno));
			return -1;
		}
	}
	if (id->has_uid) {
		if (setuid(id->uid) < 0) {
			snprintf(err, errlen, "setuid(%u): %s", (unsigned)id->uid, strerror(errno));
			return -1;
		}
		if (was == 0 && id->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
			snprintf(err, errlen, "root privileges could be regained after setuid(%u)",
			    (unsigned)id->uid);
			return -1;
		}
	}
	return 0;
}

int privs_chown(const char *path, uid_t uid, gid_t gid)
{
	return lchown(path, uid, gid);
}
