#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "core/clock.h"

static enum log_level log_min = LOG_INFO;

static const char *level_name[] = {"debug", "info", "warn", "error", "alert"};

void log_set_level(enum log_level lvl)
{
	log_min = lvl;
}

int log_enabled(enum log_level lvl)
{
	return lvl >= log_min;
}

void log_begin(struct log_line *l, enum log_level lvl, const char *msg)
{
	l->enabled = lvl >= log_min;
	if (!l->enabled)
		return;
	buf_init(&l->b, 64 * 1024);
	json_init(&l->j, &l->b);
	json_obj_open(&l->j);
	json_kv_int(&l->j, "ts_ms", clock_now_ms());
	json_kv_str(&l->j, "level", level_name[lvl]);
	json_kv_str(&l->j, "msg", msg);
}

void log_end(struct log_line *l)
{
	if (!l->enabled)
		return;
	json_obj_close(&l->j);
	buf_putc(&l->b, '\n');
	if (!l->b.failed) {
		ssize_t w = write(STDERR_FILENO, l->b.data, l->b.len);
		(void)w;
	}
	buf_release(&l->b);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	if (lvl < log_min)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct log_line l;
	log_begin(&l, lvl, msg);
	log_end(&l);
}
