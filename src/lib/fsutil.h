/* SPDX-License-Identifier: BSD-3-Clause */
/* fsutil.h: will a file be creatable here?  The start-up checks of paths the configuration names. */
#ifndef LIB_FSUTIL_H
#define LIB_FSUTIL_H

#include <stddef.h>

/* The directory part of `path` into dir: "x" -> ".", "/x" -> "/", "a/b/x" -> "a/b". */
void fs_dirname(const char *path, char *dir, size_t len);

/*
 * 0 when a file can be created in the existing directory `dir`, else the
 * errno why not (ENOENT, ENOTDIR, EACCES, EROFS ...).  A directory is made
 * and removed there: access() says yes to root everywhere, also where
 * nothing can be made (procfs, a read-only mount).
 */
int fs_dir_writable(const char *dir);

/*
 * As fs_dir_writable() for a directory that may not exist yet, to be made
 * with its parents: checked on its deepest existing ancestor.
 */
int fs_dir_creatable(const char *dir);

#endif
