/*  powerloss_vfs -- an SQLite VFS that simulates a power cut. */

#include "powerloss_vfs.h"

#include <sqlite3.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTOR 512

/*  A write (size >= 0) or a truncate (size < 0, to offset bytes) made
    since the file's last sync. */
typedef struct s_change {
    struct s_change *next;
    int64_t offset;
    int size;
    unsigned char data [];
} change_t;

/*  A file's content, as a growable buffer. */
typedef struct {
    unsigned char *data;
    int64_t size;
    int64_t capacity;
} image_t;

/*  A file (what a name points to): its content at its last sync, and the
    changes since. A name deleted and created again gets a new one. */
typedef struct s_inode {
    struct s_inode *next;       /* every inode of this life */
    image_t synced;
    change_t *changes, *last;
} inode_t;

/*  A name in a directory: the file it names now, and the one it names
    after a power cut, as of the directory's last sync. NULL: none. */
typedef struct s_name {
    struct s_name *next;
    char *path;
    inode_t *now;
    inode_t *synced;
} name_t;

typedef struct {
    sqlite3_file base;          /* our methods */
    sqlite3_file *real;         /* the default VFS's file, right behind us */
    name_t *name;               /* NULL: not tracked (temporary files) */
    inode_t *inode;
    bool dirsync;               /* the unix VFS syncs the directory at the first xSync */
} pl_file_t;

static sqlite3_vfs s_vfs;
static sqlite3_vfs *s_real;
static sqlite3_io_methods s_methods;
static name_t *s_names;
static inode_t *s_inodes;
static uint64_t s_events, s_cut_at;
static bool s_cut;
static int s_open_files;        /* tracked files open */

#define REAL(file) (((pl_file_t *) (file))->real)
#define SELF(file) ((pl_file_t *) (file))


/*  Images and changes. */

/*  Make image size bytes long, new bytes zero (an extent never written
    reads as zeros). Returns 0 or -1 (out of memory). */
static int
s_image_resize (image_t *image, int64_t size)
{
    if (size > image->capacity) {
        int64_t capacity = image->capacity? image->capacity: 4096;
        while (capacity < size)
            capacity *= 2;
        unsigned char *data = realloc (image->data, (size_t) capacity);
        if (!data)
            return -1;
        image->data = data;
        image->capacity = capacity;
    }
    if (size > image->size)
        memset (image->data + image->size, 0, (size_t) (size - image->size));
    image->size = size;
    return 0;
}

/*  Copy size bytes to offset, growing the image. Returns 0 or -1. */
static int
s_image_put (image_t *image, int64_t offset, const unsigned char *data, int64_t size)
{
    if (offset + size > image->size && s_image_resize (image, offset + size))
        return -1;
    memcpy (image->data + offset, data, (size_t) size);
    return 0;
}

/*  splitmix64: small, seedable, the same draws on every machine. */
static uint64_t
s_next (uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef enum { KEEP_ALL, DROP_ALL, SOME } fate_t;

/*  Apply changes, in order, to image: all of them (a sync), none (counted
    as lost), or some, sector by sector, drawn from *rng: keep_percent of
    the sectors whole, half of the others torn. Returns 0 or -1. */
static int
s_apply (image_t *image, const change_t *change, fate_t fate, int keep_percent, uint64_t *rng,
         powerloss_report_t *report)
{
    for (; change; change = change->next) {
        if (change->size < 0) {
            if (fate == KEEP_ALL || (fate == SOME && s_next (rng) % 2))
                if (s_image_resize (image, change->offset))
                    return -1;
            continue;
        }
        int64_t end = change->offset + change->size;
        for (int64_t at = change->offset; at < end;) {
            int64_t next = (at / SECTOR + 1) * SECTOR;
            int64_t length = (next < end? next: end) - at;
            int64_t keep = length;
            if (fate == DROP_ALL)
                keep = 0;
            else
            if (fate == SOME) {
                /*  Kept whole at the life's rate; of the rest, half torn. */
                uint64_t draw = s_next (rng) % 200;
                if (draw >= (uint64_t) keep_percent * 2)
                    keep = draw % 2 || length < 2? 0: 1 + (int64_t) (s_next (rng) % (uint64_t) (length - 1));
            }
            if (report && fate != KEEP_ALL) {
                if (keep == length)
                    report->sectors_kept++;
                else
                if (keep == 0)
                    report->sectors_lost++;
                else
                    report->sectors_torn++;
            }
            if (keep && s_image_put (image, at, change->data + (at - change->offset), keep))
                return -1;
            at += length;
        }
    }
    return 0;
}

static void
s_changes_free (inode_t *inode)
{
    while (inode->changes) {
        change_t *next = inode->changes->next;
        free (inode->changes);
        inode->changes = next;
    }
    inode->last = NULL;
}

/*  Remember a write (data, size >= 0) or a truncate (size < 0) of inode. */
static int
s_change_add (inode_t *inode, int64_t offset, const void *data, int size)
{
    change_t *change = malloc (sizeof (change_t) + (size_t) (size > 0? size: 0));
    if (!change)
        return -1;
    change->next = NULL;
    change->offset = offset;
    change->size = size;
    if (size > 0)
        memcpy (change->data, data, (size_t) size);
    if (inode->last)
        inode->last->next = change;
    else
        inode->changes = change;
    inode->last = change;
    return 0;
}

static inode_t *
s_inode_new (void)
{
    inode_t *inode = calloc (1, sizeof (inode_t));
    if (inode) {
        inode->next = s_inodes;
        s_inodes = inode;
    }
    return inode;
}

/*  Read the whole file at path into a new inode. Returns it, or NULL if
    there is no such file (*missing set) or it cannot be read. */
static inode_t *
s_inode_from_disk (const char *path, bool *missing)
{
    *missing = false;
    int fd = open (path, O_RDONLY);
    if (fd < 0) {
        *missing = errno == ENOENT;
        return NULL;
    }
    inode_t *inode = s_inode_new ();
    struct stat st;
    if (!inode || fstat (fd, &st) || s_image_resize (&inode->synced, st.st_size)) {
        close (fd);
        return NULL;
    }
    for (int64_t done = 0; done < st.st_size;) {
        ssize_t got = pread (fd, inode->synced.data + done, (size_t) (st.st_size - done), done);
        if (got <= 0) {
            close (fd);
            return NULL;
        }
        done += got;
    }
    close (fd);
    return inode;
}

/*  The name for path, made (from what is on disk, as synced) if this life
    has not seen it yet. NULL if out of memory or unreadable. */
static name_t *
s_name (const char *path)
{
    for (name_t *name = s_names; name; name = name->next)
        if (strcmp (name->path, path) == 0)
            return name;
    bool missing;
    inode_t *inode = s_inode_from_disk (path, &missing);
    if (!inode && !missing)
        return NULL;
    name_t *name = calloc (1, sizeof (name_t));
    if (!name || !(name->path = strdup (path))) {
        free (name);
        return NULL;
    }
    name->now = name->synced = inode;
    name->next = s_names;
    s_names = name;
    return name;
}

/*  An fsync of path's directory: every name in it is now durable as it is. */
static void
s_dir_sync (const char *path)
{
    const char *slash = strrchr (path, '/');
    size_t length = slash? (size_t) (slash - path): 0;
    for (name_t *name = s_names; name; name = name->next) {
        const char *other = strrchr (name->path, '/');
        if ((size_t) (other? other - name->path: 0) == length && strncmp (name->path, path, length) == 0)
            name->synced = name->now;
    }
}

static void
s_forget (void)
{
    while (s_names) {
        name_t *next = s_names->next;
        free (s_names->path);
        free (s_names);
        s_names = next;
    }
    while (s_inodes) {
        inode_t *next = s_inodes->next;
        s_changes_free (s_inodes);
        free (s_inodes->synced.data);
        free (s_inodes);
        s_inodes = next;
    }
}

/*  Count one call that changes what is on disk; true if the power is (now)
    off and it must fail. */
static bool
s_event (void)
{
    if (s_cut)
        return true;
    s_events++;
    if (s_cut_at && s_events == s_cut_at)
        s_cut = true;
    return s_cut;
}


/*  The file methods. */

static int
s_close (sqlite3_file *file)
{
    int rc = REAL (file)->pMethods? REAL (file)->pMethods->xClose (REAL (file)): SQLITE_OK;
    sqlite3_free (REAL (file));
    if (SELF (file)->name)
        s_open_files--;
    return rc;
}

static int
s_read (sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset)
{
    if (s_cut)
        return SQLITE_IOERR_READ;
    return REAL (file)->pMethods->xRead (REAL (file), buffer, amount, offset);
}

static int
s_write (sqlite3_file *file, const void *buffer, int amount, sqlite3_int64 offset)
{
    pl_file_t *self = SELF (file);
    if (!self->name)
        return s_cut? SQLITE_IOERR_WRITE: self->real->pMethods->xWrite (self->real, buffer, amount, offset);
    if (s_event ())
        return SQLITE_IOERR_WRITE;
    int rc = self->real->pMethods->xWrite (self->real, buffer, amount, offset);
    if (rc == SQLITE_OK && s_change_add (self->inode, offset, buffer, amount))
        rc = SQLITE_IOERR_NOMEM;
    return rc;
}

static int
s_truncate (sqlite3_file *file, sqlite3_int64 size)
{
    pl_file_t *self = SELF (file);
    if (!self->name)
        return s_cut? SQLITE_IOERR_TRUNCATE: self->real->pMethods->xTruncate (self->real, size);
    if (s_event ())
        return SQLITE_IOERR_TRUNCATE;
    int rc = self->real->pMethods->xTruncate (self->real, size);
    if (rc == SQLITE_OK && s_change_add (self->inode, size, NULL, -1))
        rc = SQLITE_IOERR_NOMEM;
    return rc;
}

/*  Not passed on: what is durable is the model's business. */
static int
s_sync (sqlite3_file *file, int flags)
{
    pl_file_t *self = SELF (file);
    if (!self->name)
        return s_cut? SQLITE_IOERR_FSYNC: SQLITE_OK;
    if (s_event ())
        return SQLITE_IOERR_FSYNC;
    if (s_apply (&self->inode->synced, self->inode->changes, KEEP_ALL, 100, NULL, NULL))
        return SQLITE_IOERR_NOMEM;
    s_changes_free (self->inode);
    if (self->dirsync) {
        s_dir_sync (self->name->path);
        self->dirsync = false;
    }
    return SQLITE_OK;
}

static int
s_file_size (sqlite3_file *file, sqlite3_int64 *size)
{
    if (s_cut)
        return SQLITE_IOERR_FSTAT;
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
    /*  A size hint may grow the file behind the model's back (with a
        chunk size set); it is only a hint. */
    if (op == SQLITE_FCNTL_SIZE_HINT)
        return SQLITE_OK;
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
    if (s_cut)
        return SQLITE_IOERR_SHMMAP;
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


/*  The VFS methods. */

/*  The files a power cut matters to: the database, its WAL and journals. */
static bool
s_tracked (const char *name, int flags)
{
    int type = flags & 0x0FFF00;
    return name && !(flags & SQLITE_OPEN_DELETEONCLOSE)
        && (type == SQLITE_OPEN_MAIN_DB || type == SQLITE_OPEN_WAL
        ||  type == SQLITE_OPEN_MAIN_JOURNAL || type == SQLITE_OPEN_MASTER_JOURNAL);
}

static int
s_open (sqlite3_vfs *vfs, const char *path, sqlite3_file *file, int flags, int *out_flags)
{
    pl_file_t *self = (pl_file_t *) file;
    memset (self, 0, sizeof (*self));
    if (s_cut)
        return SQLITE_CANTOPEN;
    name_t *name = NULL;
    if (s_tracked (path, flags) && !(name = s_name (path)))
        return SQLITE_CANTOPEN;
    self->real = sqlite3_malloc (s_real->szOsFile);
    if (!self->real)
        return SQLITE_NOMEM;
    memset (self->real, 0, (size_t) s_real->szOsFile);
    int rc = s_real->xOpen (s_real, path, self->real, flags, out_flags);
    if (rc == SQLITE_OK && name && !name->now && !(name->now = s_inode_new ())) {
        self->real->pMethods->xClose (self->real);
        rc = SQLITE_NOMEM;
    }
    if (rc != SQLITE_OK) {
        sqlite3_free (self->real);
        self->real = NULL;
        file->pMethods = NULL;
        return rc;
    }
    if (name) {
        int type = flags & 0x0FFF00;
        self->name = name;
        self->inode = name->now;
        self->dirsync = (flags & SQLITE_OPEN_CREATE) && type != SQLITE_OPEN_MAIN_DB;
        s_open_files++;
    }
    file->pMethods = &s_methods;
    return SQLITE_OK;
}

static int
s_delete (sqlite3_vfs *vfs, const char *path, int sync_dir)
{
    name_t *name = s_cut? NULL: s_name (path);
    if (!name || s_event ())
        return SQLITE_IOERR_DELETE;
    int rc = s_real->xDelete (s_real, path, sync_dir);
    if (rc == SQLITE_OK) {
        name->now = NULL;
        if (sync_dir)
            s_dir_sync (path);
    }
    return rc;
}

static int
s_access (sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    if (s_cut)
        return SQLITE_IOERR_ACCESS;
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
powerloss_vfs_install (void)
{
    if (s_real)
        return SQLITE_OK;
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
        .iVersion = 2, .szOsFile = (int) sizeof (pl_file_t), .mxPathname = s_real->mxPathname,
        .zName = "powerloss", .xOpen = s_open, .xDelete = s_delete, .xAccess = s_access,
        .xFullPathname = s_full_pathname, .xRandomness = s_randomness, .xSleep = s_sleep,
        .xCurrentTime = s_current_time, .xGetLastError = s_get_last_error,
        .xCurrentTimeInt64 = s_current_time_int64,
    };
    return sqlite3_vfs_register (&s_vfs, 0);
}

void
powerloss_vfs_arm (uint64_t cut_at)
{
    s_forget ();
    s_events = 0;
    s_cut_at = cut_at;
    s_cut = false;
    sqlite3_vfs_register (&s_vfs, 1);
}

uint64_t
powerloss_vfs_events (void)
{
    return s_events;
}

bool
powerloss_vfs_is_cut (void)
{
    return s_cut;
}

/*  Write image as the whole of the file at path. Returns 0 or -1. */
static int
s_rewrite (const char *path, const image_t *image)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    for (int64_t done = 0; done < image->size;) {
        ssize_t put = pwrite (fd, image->data + done, (size_t) (image->size - done), done);
        if (put <= 0) {
            close (fd);
            return -1;
        }
        done += put;
    }
    return close (fd);
}

int
powerloss_vfs_restore (powerloss_mode_t mode, uint64_t seed, powerloss_report_t *report)
{
    powerloss_report_t unused;
    if (!report)
        report = &unused;
    memset (report, 0, sizeof (*report));
    if (s_open_files) {
        fprintf (stderr, "powerloss_vfs: %d file%s still open at restore\n", s_open_files,
                 s_open_files == 1? "": "s");
        return -1;
    }
    int rc = 0;
    uint64_t rng = seed;
    /*  Some cuts keep little, some nearly all: a whole commit's sectors
        then survive now and again. */
    static const int rates [] = { 30, 90, 99 };
    report->keep_percent = mode == POWERLOSS_SECTORS? rates [s_next (&rng) % 3]: 0;
    for (name_t *name = s_cut? s_names: NULL; name && rc == 0; name = name->next) {
        inode_t *inode = name->synced;
        if (mode == POWERLOSS_SECTORS && name->now != name->synced && s_next (&rng) % 2)
            inode = name->now;
        if (name->now && inode != name->now)
            report->names_gone++;
        if (!name->now && inode)
            report->names_back++;
        if (!inode) {
            if (unlink (name->path) && errno != ENOENT)
                rc = -1;
            continue;
        }
        image_t image = { 0 };
        if (s_image_resize (&image, inode->synced.size) == 0) {
            if (image.size)
                memcpy (image.data, inode->synced.data, (size_t) inode->synced.size);
            rc = s_apply (&image, inode->changes, mode == POWERLOSS_SECTORS? SOME: DROP_ALL, report->keep_percent,
                         &rng, report);
        }
        else
            rc = -1;
        if (rc == 0)
            rc = s_rewrite (name->path, &image);
        if (rc)
            fprintf (stderr, "powerloss_vfs: cannot rewrite %s: %s\n", name->path, strerror (errno));
        report->files++;
        free (image.data);
    }
    s_forget ();
    s_cut = false;
    s_cut_at = 0;
    sqlite3_vfs_register (s_real, 1);
    return rc;
}
