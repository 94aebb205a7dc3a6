/* SPDX-License-Identifier: BSD-3-Clause */
/* test_progress.c: the capture-file progress line: format, delay, rate limit, TTY only. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/progress.h"
#include "tap.h"

static void test_format(void)
{
	struct progress p;
	char buf[160];

	progress_init(&p, "/var/tmp/captures/big.pcap", 1000000, -1, true, 100.0);
	progress_format(&p, 250000, 3000000, 110.0, buf, sizeof(buf));
	is_str(buf, "[big.pcap] 25%, 3.00M packets, 300.0k packets/s, ETA 0:30",
	    "percent, packets, rate and ETA");
	progress_format(&p, 0, 0, 100.0, buf, sizeof(buf));
	is_str(buf, "[big.pcap] 0 packets, 0 packets/s", "nothing read yet: no percent or ETA");
	progress_init(&p, "stdin", 0, -1, true, 0.0);
	progress_format(&p, 5, 1500, 3.0, buf, sizeof(buf));
	is_str(buf, "[stdin] 1.5k packets, 500 packets/s", "unknown size: no percent or ETA");
	progress_init(&p, "a-very-long-capture-file-name-from-the-tap-on-the-core-router-2026-11-27.pcap",
	    0, -1, true, 0.0);
	ok(strlen(p.what) < sizeof(p.what) && strncmp(p.what, "...", 3) == 0 &&
	    strstr(p.what, "11-27.pcap") != NULL, "a long name keeps its end: %s", p.what);
}

static int read_all(int fd, char *buf, int len)
{
	int n = (int)read(fd, buf, (size_t)len - 1);
	buf[n < 0 ? 0 : n] = 0;
	return n;
}

static void test_tty_only_and_rate(void)
{
	struct progress p;
	int fds[2];
	char buf[512];

	ok(pipe(fds) == 0, "pipe");
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	progress_init(&p, "f.pcap", 100, fds[1], false, 0.0);
	ok(!p.on, "a pipe is not a terminal: off");
	progress_tick(&p, 50, 50, 10.0);
	ok(read_all(fds[0], buf, sizeof(buf)) <= 0, "nothing written when off");

	progress_init(&p, "f.pcap", 100, fds[1], true, 0.0);
	progress_tick(&p, 10, 10, 1.0);
	ok(read_all(fds[0], buf, sizeof(buf)) <= 0, "nothing in the first seconds");
	progress_tick(&p, 50, 50, 2.5);
	read_all(fds[0], buf, sizeof(buf));
	ok(strstr(buf, "\r[f.pcap] 50%") == buf, "a line after the delay: %s", buf + 1);
	progress_tick(&p, 51, 51, 2.6);
	ok(read_all(fds[0], buf, sizeof(buf)) <= 0, "not redrawn within the interval");
	progress_tick(&p, 60, 60, 3.1);
	read_all(fds[0], buf, sizeof(buf));
	ok(strstr(buf, "60%") != NULL, "redrawn after it");
	progress_done(&p);
	read_all(fds[0], buf, sizeof(buf));
	is_str(buf, "\r\033[K", "cleared at the end");
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	test_format();
	test_tty_only_and_rate();
	return tap_done();
}
