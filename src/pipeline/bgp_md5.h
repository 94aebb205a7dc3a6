/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_md5.h: bgp_daemon_md5_file: the TCP MD5 (RFC 2385) password of each BGP peer. */
#ifndef PIPELINE_BGP_MD5_H
#define PIPELINE_BGP_MD5_H

#include <stddef.h>

#include "model/flow_rec.h"

#define BGP_MD5_KEY_MAX 80	/* TCP_MD5SIG_MAXKEYLEN */

struct bgp_md5_entry {
	struct fr_ip addr;
	char key[BGP_MD5_KEY_MAX + 1];
};

struct bgp_md5_list {
	size_t n;
	struct bgp_md5_entry *e;
};

/*
 * Load an md5 file: rows "address, password" (pmacct's form; blanks around
 * both trimmed), `!` and `#` comment lines.  A bad row (no comma, an
 * address that is not one, an empty or longer than 80 bytes password) is
 * warned about under who as "[file:line] ..." and skipped.  Returns 0 and
 * fills *out (free with bgp_md5_free), or -1 with errno set when the file
 * cannot be read.
 */
int bgp_md5_load(const char *path, const char *who, struct bgp_md5_list *out);

/* Free a list's rows (the list itself is the caller's); a zeroed list is fine. */
void bgp_md5_free(struct bgp_md5_list *l);

#endif
