/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_config.c: libFuzzer target for cfg_load(): a config file in, the parsed config dumped back. */
#include <stdint.h>
#include <unistd.h>

#include "config/config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The first byte picks the daemon (pmacctd, nfacctd, sfacctd) and whether
 * a few command-line flags follow the file, as -P / -c / -r would; the rest
 * is the configuration file.  A config that loads is dumped (-T config) and
 * freed, so the printer and cfg_fini() see every shape the parser accepts.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cfg_arg args[] = {
		{ "plugins", "print" }, { "aggregate", "src_host,dst_port" },
		{ "print_refresh_time", "5" },
	};
	struct core_cfg cfg;
	char path[64];
	int fd;

	if ((fd = fuzz_file_after_options(data, size, path, sizeof(path))) < 0)
		return 0;
	enum cfg_daemon d = (enum cfg_daemon)(data[0] % 3);
	int nargs = (data[0] & 0x80) ? (int)(sizeof(args) / sizeof(args[0])) : 0;
	if (cfg_load(&cfg, d, path, args, nargs) == 0) {
		cfg_dump(&cfg, fuzz_sink());
		for (int i = 0; i < cfg.nplugins; i++)
			(void)cfg_where(&cfg.plugins[i].origin, "aggregate");
		cfg_fini(&cfg);
	}
	close(fd);
	return 0;
}
