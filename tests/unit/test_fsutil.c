/* SPDX-License-Identifier: BSD-3-Clause */
/* test_fsutil.c: directory names and the "can a file be made here" checks of start-up. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "tap.h"

static void test_dirname(void)
{
	char d[64];

	fs_dirname("x.pipe", d, sizeof(d));
	is_str(d, ".", "a bare name lives in the working directory");
	fs_dirname("/x.pipe", d, sizeof(d));
	is_str(d, "/", "a name in the root");
	fs_dirname("/tmp/a/x.pipe", d, sizeof(d));
	is_str(d, "/tmp/a", "a nested name");
	fs_dirname("rel/x", d, sizeof(d));
	is_str(d, "rel", "a relative path");
}

static void test_writable(void)
{
	char base[] = "/tmp/test_fsutil_XXXXXX", sub[64], file[64], deep[96];

	if (!mkdtemp(base)) {
		ok(false, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(sub, sizeof(sub), "%s/missing", base);
	snprintf(file, sizeof(file), "%s/file", base);
	snprintf(deep, sizeof(deep), "%s/file/below", base);
	FILE *f = fopen(file, "w");
	if (f)
		fclose(f);
	is_int(fs_dir_writable(base), 0, "an existing directory of ours");
	is_int(fs_dir_writable(sub), ENOENT, "a missing directory is not writable");
	is_int(fs_dir_creatable(sub), 0, "but can be made");
	is_int(fs_dir_writable(file), ENOTDIR, "a file is no directory");
	is_int(fs_dir_creatable(deep), ENOTDIR, "nor can a directory be made below a file");
	ok(fs_dir_writable("/proc") != 0, "nothing can be made in /proc, even as root");
	ok(fs_dir_creatable("/proc/nosuch/dir") != 0, "nor below it");
	/* the probe leaves nothing behind */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", base);
	is_int(system(cmd), 0, "the probe directory is removed");
	unlink(file);
	rmdir(base);
}

int main(void)
{
	test_dirname();
	test_writable();
	return tap_done();
}
