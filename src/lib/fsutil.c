/* SPDX-License-Identifier: BSD-3-Clause */
/* fsutil.c: will a file be creatable here? */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void fs_dirname(const char *path, char *dir, size_t len)
{
	snprintf(dir, len, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
}

int fs_dir_writable(const char *dir)
{
	char t[PATH_MAX];
	struct stat st;

	if (stat(dir, &st) < 0)
		return errno;
	if (!S_ISDIR(st.st_mode))
		return ENOTDIR;
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0)
		return errno;
	if (snprintf(t, sizeof(t), "%s/.pmacct-ng-check-XXXXXX", dir) >= (int)sizeof(t))
		return ENAMETOOLONG;
	if (!mkdtemp(t))
		return errno;
	rmdir(t);
	return 0;
}

int fs_dir_creatable(const char *dir)
{
	char d[PATH_MAX];
	struct stat st;

	snprintf(d, sizeof(d), "%s", dir[0] ? dir : ".");
	while (stat(d, &st) < 0) {
		if (errno != ENOENT)
			return errno;
		char up[PATH_MAX];
		fs_dirname(d, up, sizeof(up));
		if (strcmp(up, d) == 0)
			return ENOENT;
		snprintf(d, sizeof(d), "%s", up);
	}
	return fs_dir_writable(d);
}
