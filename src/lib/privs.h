/* SPDX-License-Identifier: BSD-3-Clause */
/* privs.h: switching the process to an unprivileged user and group, and owning created files. */
#ifndef LIB_PRIVS_H
#define LIB_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Who the process becomes: has_uid / has_gid say which of the two change. */
struct privs_id {
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
	gid_t user_gid;		/* the user's primary group (when has_uid and it has one) */
	bool user_has_gid;
};

/*
 * Resolve a user given as a name or a number.  Fills uid and, when the
 * user has a passwd entry, its primary group.  Returns 0, or -1 with the
 * reason in err[].
 */
int privs_user(const char *s, struct privs_id *id, char *err, size_t errlen);

/* Resolve a group given as a name or a number into id->gid.  0, or -1 with err[]. */
int privs_group(const char *s, struct privs_id *id, char *err, size_t errlen);

/*
 * Become id: the supplementary groups are replaced by id->gid alone
 * (setgroups), then setgid, then setuid, so no privilege is kept (a
 * root process loses its capabilities with its uid).  When the uid
 * changes from root, checks that root cannot be regained.  A no-op for
 * what already matches.  Returns 0, or -1 with the reason in err[].
 */
int privs_drop(const struct privs_id *id, char *err, size_t errlen);

/*
 * Give path (not following a symbolic link) to uid / gid; (uid_t)-1 or
 * (gid_t)-1 leave that one alone.  Returns 0, or -1 with errno set.
 */
int privs_chown(const char *path, uid_t uid, gid_t gid);

#endif
