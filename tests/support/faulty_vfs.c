/*  faulty_vfs -- an SQLite VFS that fails the k-th write, sync or truncate,
    or the k-th read. */

#include "faulty_vfs.h"

#include <sqlite3.h>
#include <string.h>

typedef struct {
    sqlite3_file base;          /* our methods */
    sqlite3_file *real;         /* the default VFS's file, right behind us */
} faulty_file_t;

static sqlite3_vfs s_vfs;
static sqlite3_vfs *s_real;
static sqlite3_io_methods s_methods;
static uint64_t s_calls, s_failures, s_fail_at;
static int s_rc = SQLITE_IOERR_WRITE;
static bool s_keep_failing;
static bool s_reads;            /* count reads, not writes */

/*  Count one call, if it is a read (is_read) and reads are counted, or a
    write and writes are; return the error to fake, or SQLITE_OK to go on. */
static int
s_fault (bool is_read)
{
    if (is_read != s_reads)
        return SQLITE_OK;
    s_calls++;
    if (s_fail_at && (s_calls == s_fail_at || (s_keep_failing && s_calls > s_fail_at))) {
        s_failures++;
        return s_rc;
    }
    return SQLITE_OK;
}

#define REAL(file) (((faulty_file_t *) (file))->real)

static int
s_close (sqlite3_file *file)
{
    int rc = REAL (file)->pMethods? REAL (file)->pMethods->xClose (REAL (file)): SQLITE_OK;
    sqlite3_free (REAL (file));
    return rc;
}

static int
s_read (sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset)
{
    int rc = s_fault (true);
    return rc? rc: REAL (file)->pMethods->xRead (REAL (file), buffer, amount, offset);
}

static int
s_write (sqlite3_file *file, const void *buffer, int amount, sqlite3_int64 offset)
{
    int rc = s_fault (false);
    return rc? rc: REAL (file)->pMethods->xWrite (REAL (file), buffer, amount, offset);
}

static int
s_truncate (sqlite3_file *file, sqlite3_int64 size)
{
    int rc = s_fault (false);
    return rc? (rc == SQLITE_IOERR_WRITE? SQLITE_IOERR_TRUNCATE: rc): REAL (file)->pMethods->xTruncate (REAL (file), size);
}

static int
s_sync (sqlite3_file *file, int flags)
{
    int rc = s_fault (false);
    return rc? (rc == SQLITE_IOERR_WRITE? SQLITE_IOERR_FSYNC: rc): REAL (file)->pMethods->xSync (REAL (file), flags);
}

static int
s_file_size (sqlite3_file *file, sqlite3_int64 *size)
{
    return REAL (file)->pMethods->xFileSize (REAL (file), size);
}

static int
s_lock (sqlite3_file *file, int level)
{
    return REAL (file)->pMethods->xLock (REAL (file), level);
}

static int
s_unlock (sqlite3_file *file, int level)
{
    return REAL (file)->pMethods->xUnlock (REAL (file), level);
}

static int
s_check_reserved (sqlite3_file *file, int *out)
{
    return REAL (file)->pMethods->xCheckReservedLock (REAL (file), out);
}

static int
s_file_control (sqlite3_file *file, int op, void *arg)
{
    return REAL (file)->pMethods->xFileControl (REAL (file), op, arg);
}

static int
s_sector_size (sqlite3_file *file)
{
    return REAL (file)->pMethods->xSectorSize (REAL (file));
}

static int
s_device_characteristics (sqlite3_file *file)
{
    return REAL (file)->pMethods->xDeviceCharacteristics (REAL (file));
}

static int
s_shm_map (sqlite3_file *file, int page, int size, int extend, void volatile **pp)
{
    return REAL (file)->pMethods->xShmMap (REAL (file), page, size, extend, pp);
}

static int
s_shm_lock (sqlite3_file *file, int offset, int n, int flags)
{
    return REAL (file)->pMethods->xShmLock (REAL (file), offset, n, flags);
}

static void
s_shm_barrier (sqlite3_file *file)
{
    REAL (file)->pMethods->xShmBarrier (REAL (file));
}

static int
s_shm_unmap (sqlite3_file *file, int delete_flag)
{
    return REAL (file)->pMethods->xShmUnmap (REAL (file), delete_flag);
}

static int
s_fetch (sqlite3_file *file, sqlite3_int64 offset, int amount, void **pp)
{
    /*  No memory-mapped reads: every page goes through xRead. */
    *pp = NULL;
    return SQLITE_OK;
}

static int
s_unfetch (sqlite3_file *file, sqlite3_int64 offset, void *p)
{
    return SQLITE_OK;
}

static int
s_open (sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    faulty_file_t *self = (faulty_file_t *) file;
    self->real = sqlite3_malloc (s_real->szOsFile);
    if (!self->real)
        return SQLITE_NOMEM;
    memset (self->real, 0, (size_t) s_real->szOsFile);
    int rc = s_real->xOpen (s_real, name, self->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        sqlite3_free (self->real);
        self->real = NULL;
        file->pMethods = NULL;
        return rc;
    }
    file->pMethods = &s_methods;
    return SQLITE_OK;
}

static int
s_delete (sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    return s_real->xDelete (s_real, name, sync_dir);
}

static int
s_access (sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    return s_real->xAccess (s_real, name, flags, out);
}

static int
s_full_pathname (sqlite3_vfs *vfs, const char *name, int size, char *out)
{
    return s_real->xFullPathname (s_real, name, size, out);
}

static int
s_randomness (sqlite3_vfs *vfs, int size, char *out)
{
    return s_real->xRandomness (s_real, size, out);
}

static int
s_sleep (sqlite3_vfs *vfs, int us)
{
    return s_real->xSleep (s_real, us);
}

static int
s_current_time (sqlite3_vfs *vfs, double *out)
{
    return s_real->xCurrentTime (s_real, out);
}

static int
s_current_time_int64 (sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    return s_real->xCurrentTimeInt64 (s_real, out);
}

static int
s_get_last_error (sqlite3_vfs *vfs, int size, char *out)
{
    return s_real->xGetLastError? s_real->xGetLastError (s_real, size, out): 0;
}

int
faulty_vfs_install (void)
{
    if (s_real)
        return 0;
    s_real = sqlite3_vfs_find (NULL);
    s_methods = (sqlite3_io_methods) {
        .iVersion = 3, .xClose = s_close, .xRead = s_read, .xWrite = s_write, .xTruncate = s_truncate,
        .xSync = s_sync, .xFileSize = s_file_size, .xLock = s_lock, .xUnlock = s_unlock,
        .xCheckReservedLock = s_check_reserved, .xFileControl = s_file_control,
        .xSectorSize = s_sector_size, .xDeviceCharacteristics = s_device_characteristics,
        .xShmMap = s_shm_map, .xShmLock = s_shm_lock, .xShmBarrier = s_shm_barrier,
        .xShmUnmap = s_shm_unmap, .xFetch = s_fetch, .xUnfetch = s_unfetch,
    };
    s_vfs = (sqlite3_vfs) {
        .iVersion = 2, .szOsFile = (int) sizeof (faulty_file_t), .mxPathname = s_real->mxPathname,
        .zName = "faulty", .xOpen = s_open, .xDelete = s_delete, .xAccess = s_access,
        .xFullPathname = s_full_pathname, .xRandomness = s_randomness, .xSleep = s_sleep,
        .xCurrentTime = s_current_time, .xGetLastError = s_get_last_error,
        .xCurrentTimeInt64 = s_current_time_int64,
    };
    return sqlite3_vfs_register (&s_vfs, 1);
}

void
faulty_vfs_arm (uint64_t fail_at, int rc, bool keep_failing)
{
    s_fail_at = fail_at;
    s_rc = rc;
    s_keep_failing = keep_failing;
    s_reads = false;
    s_calls = 0;
    s_failures = 0;
}

void
faulty_vfs_arm_reads (uint64_t fail_at, int rc, bool keep_failing)
{
    faulty_vfs_arm (fail_at, rc, keep_failing);
    s_reads = true;
}

uint64_t
faulty_vfs_calls (void)
{
    return s_calls;
}

uint64_t
faulty_vfs_failures (void)
{
    return s_failures;
}
