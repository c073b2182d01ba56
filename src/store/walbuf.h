/*
 * A SQLite VFS shim that hands a transaction's WAL frames to the OS in one write.
 *
 * SQLite appends each WAL frame with two pwrite calls (its 24-byte header, then the page), so a
 * group commit of ~55 frames made ~110 system calls, each a trip through ext4's buffered-write
 * path (perf, 2026-12-04: about a fifth of the writer thread's time). This shim, registered
 * under WALBUF_VFS and used by the read-write connections, gathers consecutive appends to a WAL
 * file in memory and writes them with one call when the transaction's commit frame is complete,
 * before SQLite publishes the frames to readers, so nothing another connection can see is ever
 * held back. Anything else on the WAL file (a read, a sync, a write elsewhere, a size query,
 * a close) writes what is gathered first. Statement journals that spill to a file have their
 * writes split below the unix VFS's 128 KiB limit (walbuf.c, wb_open). Every other file, the
 * database itself included, is the default VFS's own, untouched. Only src/store/ includes this.
 */
#ifndef TENDER_STORE_WALBUF_H
#define TENDER_STORE_WALBUF_H

#include <stdint.h>

#define WALBUF_VFS "tender-walbuf"

/* Registers the shim over the default VFS (once; later calls return the first result).
 * SQLITE_OK, or SQLite's error. */
int walbuf_register(void);

/* Tests: system-call writes made to WAL files through the shim, and frames' bytes they carried,
 * since the process started. */
void walbuf_stats(int64_t *ret_writes, int64_t *ret_bytes);

#endif
