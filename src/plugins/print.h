/* SPDX-License-Identifier: BSD-3-Clause */
/* print.h: the print plugin's start-up check, shared by start-up and -T config. */
#ifndef PLUGINS_PRINT_H
#define PLUGINS_PRINT_H

struct plugin;

/*
 * Check that what the print plugin will write can be written: the static
 * directory part of print_output_file and print_latest_file (before any
 * %-time or $-variable) must be a writable directory, or have a writable
 * deepest existing ancestor in which the missing directories can be made
 * (the plugin makes them, as pmacct); an existing file named without
 * variables must be writable; without print_output_file, stdout must be
 * open.  Nothing is left behind (a directory is made and removed in the
 * deepest existing ancestor: access() says yes to root everywhere).  Returns 0, or -1 after logging the key, the
 * config origin (file:line) and the path:
 *   [file:line] key 'print_output_file': cannot write '<path>': <reason>
 * Checks the effective user at start-up (root until `user` is applied).
 */
int print_check(const struct plugin *p);

#endif
