/*
 * The WAL write-gathering VFS shim (see walbuf.h).
 *
 * When the gathered bytes must reach the OS: SQLite writes a transaction's frames with
 * sqlite3WalFrames, one header and one page per frame, at consecutive offsets, the commit frame
 * last (its header's second word, the database size after the commit, is non-zero; every other
 * frame has 0 there: the WAL format, https://sqlite.org/fileformat2.html#walformat). Only after
 * the last write does it append the frames to the wal-index and publish the new header, which is
 * when another connection may read them. So the gathered bytes are written as soon as a commit
 * frame's page is in, still inside that call; and before anything else touches the file, so a
 * read (SQLite re-reads frames it rewrites to fix their checksums), a sync, a size query or a
 * truncation always sees every byte written before it. Frames written early because the buffer
 * filled are harmless: past the last commit frame they are not part of the log, exactly as when
 * SQLite writes them one by one and a crash comes before the commit.
 */
#include "store/walbuf.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Gathered bytes per WAL file at most (a group commit of ~55 frames is ~230 KB); past it the
 * buffer is written out and gathering starts again. */
#define WALBUF_MAX (1u << 20)
#define WALBUF_MIN (64u << 10)
#define WAL_HEADER_BYTES 32
#define FRAME_HEADER_BYTES 24

struct wb_file {
	sqlite3_file base;  /* pMethods = &wb_methods */
	sqlite3_file *real; /* the default VFS's file, in the same allocation, right after this */
	unsigned char *buf;
	size_t len, cap;
	sqlite3_int64 off; /* the file offset of buf[0] */
	int commit_next; /* the last write was a commit frame's header: its page ends the commit */
	int gather;	 /* a WAL file: writes are gathered; else only split (see wb_open) */
};

static _Atomic int64_t stat_writes, stat_bytes;

void walbuf_stats(int64_t *ret_writes, int64_t *ret_bytes)
{
	*ret_writes = atomic_load(&stat_writes);
	*ret_bytes = atomic_load(&stat_bytes);
}

/* SQLite's unix VFS passes at most the low 17 bits of a write's size to each pwrite (`nBuf &=
 * 0x1ffff` in seekAndWriteFd), and takes a pwrite that wrote nothing for a full disk: a write
 * whose remainder is a multiple of 128 KiB fails with SQLITE_FULL (seen: 1,046,504 bytes =
 * 129,000 + 7 x 131,072). So what is gathered goes out in pieces below 128 KiB. */
#define WALBUF_PIECE ((128u << 10) - 1)

static int put(struct wb_file *f, const void *p, size_t n, sqlite3_int64 off)
{
	const unsigned char *b = p;
	while (n > 0) {
		size_t k = n < WALBUF_PIECE ? n : WALBUF_PIECE;
		if (f->gather) {
			atomic_fetch_add_explicit(&stat_writes, 1, memory_order_relaxed);
			atomic_fetch_add_explicit(&stat_bytes, (int64_t)k, memory_order_relaxed);
		}
		int rc = f->real->pMethods->xWrite(f->real, b, (int)k, off);
		if (rc != SQLITE_OK)
			return rc;
		b += k;
		off += (sqlite3_int64)k;
		n -= k;
	}
	return SQLITE_OK;
}

static int flush(struct wb_file *f)
{
	f->commit_next = 0;
	if (f->len == 0)
		return SQLITE_OK;
	size_t n = f->len;
	f->len = 0; /* a failed write is SQLite's to handle: it fails the transaction */
	return put(f, f->buf, n, f->off);
}

/* Room for n more bytes, growing the buffer up to WALBUF_MAX; false when it cannot hold them. */
static int room(struct wb_file *f, size_t n)
{
	if (f->len + n <= f->cap)
		return 1;
	size_t cap = f->cap ? f->cap : WALBUF_MIN;
	while (cap < f->len + n && cap < WALBUF_MAX)
		cap *= 2;
	if (cap < f->len + n)
		return 0;
	unsigned char *b = realloc(f->buf, cap);
	if (!b)
		return 0;
	f->buf = b;
	f->cap = cap;
	return 1;
}

static int wb_write(sqlite3_file *file, const void *p, int amt, sqlite3_int64 off)
{
	struct wb_file *f = (struct wb_file *)file;
	size_t n = amt > 0 ? (size_t)amt : 0;
	if (!f->gather)
		return put(f, p, n, off);
	int rc;
	if (f->len && off != f->off + (sqlite3_int64)f->len && (rc = flush(f)) != SQLITE_OK)
		return rc;
	if (!room(f, n)) {
		if ((rc = flush(f)) != SQLITE_OK)
			return rc;
		/* larger than the buffer, or no memory for it: written as it is */
		if (!room(f, n))
			return put(f, p, n, off);
	}
	if (f->len == 0)
		f->off = off;
	memcpy(f->buf + f->len, p, n);
	f->len += n;
	if (f->commit_next)
		return flush(f);
	if (n == FRAME_HEADER_BYTES && off >= WAL_HEADER_BYTES) {
		const unsigned char *h = p;
		f->commit_next = (h[4] | h[5] | h[6] | h[7]) != 0;
	}
	return SQLITE_OK;
}

static int wb_close(sqlite3_file *file)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc = flush(f);
	int rc2 = f->real->pMethods->xClose(f->real);
	free(f->buf);
	f->buf = NULL;
	f->cap = 0;
	return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *file, void *p, int amt, sqlite3_int64 off)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, p, amt, off);
}

static int wb_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wb_sync(sqlite3_file *file, int flags)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wb_file_size(sqlite3_file *file, sqlite3_int64 *ret)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, ret);
}

static int wb_lock(sqlite3_file *file, int level)
{
	struct wb_file *f = (struct wb_file *)file;
	return f->real->pMethods->xLock(f->real, level);
}

static int wb_unlock(sqlite3_file *file, int level)
{
	struct wb_file *f = (struct wb_file *)file;
	return f->real->pMethods->xUnlock(f->real, level);
}

static int wb_check_reserved(sqlite3_file *file, int *ret)
{
	struct wb_file *f = (struct wb_file *)file;
	return f->real->pMethods->xCheckReservedLock(f->real, ret);
}

static int wb_file_control(sqlite3_file *file, int op, void *arg)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wb_sector_size(sqlite3_file *file)
{
	struct wb_file *f = (struct wb_file *)file;
	return f->real->pMethods->xSectorSize(f->real);
}

static int wb_device_characteristics(sqlite3_file *file)
{
	struct wb_file *f = (struct wb_file *)file;
	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

/* Version 1: SQLite maps and shares memory through the database file, never the WAL. */
static const sqlite3_io_methods wb_methods = {
    .iVersion = 1,
    .xClose = wb_close,
    .xRead = wb_read,
    .xWrite = wb_write,
    .xTruncate = wb_truncate,
    .xSync = wb_sync,
    .xFileSize = wb_file_size,
    .xLock = wb_lock,
    .xUnlock = wb_unlock,
    .xCheckReservedLock = wb_check_reserved,
    .xFileControl = wb_file_control,
    .xSectorSize = wb_sector_size,
    .xDeviceCharacteristics = wb_device_characteristics,
};

/* ---- the VFS: xOpen wraps WAL files; everything else is the default VFS's ---- */

#define REAL(vfs) ((sqlite3_vfs *)(vfs)->pAppData)

/*
 * WAL files are gathered. Statement journals (and temporary databases' journals, which SQLite
 * keeps the same way) are wrapped too, only to split their writes: such a journal lives in
 * memory in chunks of SQLITE_CONFIG_STMTJRNL_SPILL bytes (1 MiB here, sqlite_db.c), and one that
 * outgrows that is copied to a temporary file a chunk per write; the unix VFS takes at most
 * 128 KiB - 1 per write (the low 17 bits of the size) and a write of nothing for a full disk, so
 * a savepoint that changed more than 1 MiB of pages (a migration copying a table, a large batch)
 * failed with SQLITE_FULL.
 */
static int wb_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
		   int *ret_flags)
{
	sqlite3_vfs *real = REAL(vfs);
	/* any other file is the default VFS's own, in the first bytes of the same allocation */
	if (!(flags & (SQLITE_OPEN_WAL | SQLITE_OPEN_SUBJOURNAL | SQLITE_OPEN_TEMP_JOURNAL)))
		return real->xOpen(real, name, file, flags, ret_flags);
	struct wb_file *f = (struct wb_file *)file;
	memset(f, 0, sizeof(*f));
	f->gather = (flags & SQLITE_OPEN_WAL) != 0;
	f->real = (sqlite3_file *)(f + 1);
	int rc = real->xOpen(real, name, f->real, flags, ret_flags);
	f->base.pMethods = rc == SQLITE_OK && f->real->pMethods ? &wb_methods : NULL;
	if (rc == SQLITE_OK && !f->base.pMethods)
		rc = SQLITE_CANTOPEN;
	return rc;
}

static int wb_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	return REAL(vfs)->xDelete(REAL(vfs), name, sync_dir);
}

static int wb_access(sqlite3_vfs *vfs, const char *name, int flags, int *ret)
{
	return REAL(vfs)->xAccess(REAL(vfs), name, flags, ret);
}

static int wb_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return REAL(vfs)->xFullPathname(REAL(vfs), name, n, out);
}

static void *wb_dl_open(sqlite3_vfs *vfs, const char *name)
{
	return REAL(vfs)->xDlOpen(REAL(vfs), name);
}

static void wb_dl_error(sqlite3_vfs *vfs, int n, char *msg)
{
	REAL(vfs)->xDlError(REAL(vfs), n, msg);
}

static void (*wb_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	return REAL(vfs)->xDlSym(REAL(vfs), h, sym);
}

static void wb_dl_close(sqlite3_vfs *vfs, void *h)
{
	REAL(vfs)->xDlClose(REAL(vfs), h);
}

static int wb_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	return REAL(vfs)->xRandomness(REAL(vfs), n, out);
}

static int wb_sleep(sqlite3_vfs *vfs, int us)
{
	return REAL(vfs)->xSleep(REAL(vfs), us);
}

static int wb_current_time(sqlite3_vfs *vfs, double *ret)
{
	return REAL(vfs)->xCurrentTime(REAL(vfs), ret);
}

static int wb_last_error(sqlite3_vfs *vfs, int n, char *msg)
{
	return REAL(vfs)->xGetLastError(REAL(vfs), n, msg);
}

static int wb_current_time_i64(sqlite3_vfs *vfs, sqlite3_int64 *ret)
{
	return REAL(vfs)->xCurrentTimeInt64(REAL(vfs), ret);
}

static sqlite3_vfs wb_vfs;
static int register_rc = SQLITE_ERROR;
static pthread_once_t register_once = PTHREAD_ONCE_INIT;

static void register_shim(void)
{
	sqlite3_vfs *real = sqlite3_vfs_find(NULL);
	/* the default VFS is version 3 on every Unix build; the forwarders below need version 2 */
	if (!real || real->iVersion < 2) {
		register_rc = SQLITE_ERROR;
		return;
	}
	wb_vfs = (sqlite3_vfs){
	    .iVersion = 2,
	    .szOsFile = (int)sizeof(struct wb_file) + real->szOsFile,
	    .mxPathname = real->mxPathname,
	    .zName = WALBUF_VFS,
	    .pAppData = real,
	    .xOpen = wb_open,
	    .xDelete = wb_delete,
	    .xAccess = wb_access,
	    .xFullPathname = wb_full_pathname,
	    .xDlOpen = wb_dl_open,
	    .xDlError = wb_dl_error,
	    .xDlSym = wb_dl_sym,
	    .xDlClose = wb_dl_close,
	    .xRandomness = wb_randomness,
	    .xSleep = wb_sleep,
	    .xCurrentTime = wb_current_time,
	    .xGetLastError = wb_last_error,
	    .xCurrentTimeInt64 = wb_current_time_i64,
	};
	register_rc = sqlite3_vfs_register(&wb_vfs, 0);
}

int walbuf_register(void)
{
	pthread_once(&register_once, register_shim);
	return register_rc;
}
