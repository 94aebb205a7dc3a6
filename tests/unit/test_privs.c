/* SPDX-License-Identifier: BSD-3-Clause */
/* test_privs.c: user and group resolution, and the privilege drop (in a child process, as root). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/privs.h"
#include "tap.h"

static void test_resolve(void)
{
	struct privs_id id;
	char err[256];

	memset(&id, 0, sizeof(id));
	ok(privs_user("root", &id, err, sizeof(err)) == 0 && id.has_uid && id.uid == 0 &&
	    id.user_has_gid && id.user_gid == 0, "root by name: uid 0, group 0");
	memset(&id, 0, sizeof(id));
	ok(privs_user("0", &id, err, sizeof(err)) == 0 && id.uid == 0 && id.user_has_gid,
	    "root by number has its passwd group");
	struct passwd *nb = getpwnam("nobody");
	memset(&id, 0, sizeof(id));
	ok(nb && privs_user("nobody", &id, err, sizeof(err)) == 0 && id.uid == nb->pw_uid &&
	    id.user_gid == nb->pw_gid, "nobody by name");
	memset(&id, 0, sizeof(id));
	ok(privs_user("4000000", &id, err, sizeof(err)) == 0 && id.uid == 4000000 &&
	    !id.user_has_gid, "a uid with no passwd entry: no group of its own");
	memset(&id, 0, sizeof(id));
	ok(privs_user("no_such_user_x", &id, err, sizeof(err)) < 0 && !id.has_uid &&
	    strstr(err, "no_such_user_x"), "unknown user named in the error: %s", err);
	ok(privs_user("4294967295", &id, err, sizeof(err)) < 0, "uid -1 (unchanged) refused");
	ok(privs_user("-1", &id, err, sizeof(err)) < 0, "negative uid refused");
	ok(privs_user("", &id, err, sizeof(err)) < 0, "empty user refused");
	memset(&id, 0, sizeof(id));
	ok(privs_group("daemon", &id, err, sizeof(err)) == 0 && id.has_gid &&
	    id.gid == getgrnam("daemon")->gr_gid, "group by name");
	memset(&id, 0, sizeof(id));
	ok(privs_group("123456", &id, err, sizeof(err)) == 0 && id.gid == 123456, "group by number");
	memset(&id, 0, sizeof(id));
	ok(privs_group("no_such_group_x", &id, err, sizeof(err)) < 0 && !id.has_gid &&
	    strstr(err, "no_such_group_x"), "unknown group named in the error");
}

static void test_chown(void)
{
	char path[] = "/tmp/test_privs_XXXXXX";
	int fd = mkstemp(path);
	struct stat sb;

	ok(fd >= 0 && privs_chown(path, (uid_t)-1, (gid_t)-1) == 0, "chown to (-1, -1) is a no-op");
	ok(stat(path, &sb) == 0 && sb.st_uid == geteuid(), "owner unchanged");
	if (geteuid() == 0) {
		ok(privs_chown(path, 65534, 1) == 0 && stat(path, &sb) == 0 && sb.st_uid == 65534 &&
		    sb.st_gid == 1, "root gives a file away");
	} else {
		skip("giving a file away needs root");
	}
	close(fd);
	unlink(path);
	errno = 0;
	ok(privs_chown("/nonexistent/x", 0, 0) < 0 && errno == ENOENT, "missing file: ENOENT");
}

/* In a child: drop to nobody and report what it became (exit code bits). */
static int drop_child(const struct privs_id *id)
{
	char err[256];
	gid_t groups[8];
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (privs_drop(id, err, sizeof(err)) < 0)
			_exit(1);
		int rc = 0;
		if (getuid() != id->uid || geteuid() != id->uid)
			rc |= 2;
		if (getgid() != id->gid || getegid() != id->gid)
			rc |= 4;
		if (getgroups(8, groups) != 1 || groups[0] != id->gid)
			rc |= 8;
		if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
			rc |= 16;
		_exit(rc);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void test_drop(void)
{
	struct privs_id id = { 0 };
	char err[256];

	ok(privs_drop(&id, err, sizeof(err)) == 0, "nothing to change: 0");
	if (geteuid() != 0) {
		skip("dropping needs root");
		id.has_uid = true;
		id.uid = 0;
		ok(privs_drop(&id, err, sizeof(err)) < 0, "a non-root process cannot become root");
		return;
	}
	id.has_uid = id.has_gid = true;
	id.uid = 65534;
	id.gid = 65534;
	is_int(drop_child(&id), 0, "root -> 65534:65534, one group, root not regained");
	id.gid = 1;
	is_int(drop_child(&id), 0, "root -> 65534:1");
}

int main(void)
{
	test_resolve();
	test_chown();
	test_drop();
	return tap_done();
}
