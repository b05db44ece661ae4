/**
 * Replacing a file so that a crash or a power cut at any moment leaves either the old content
 * or the new, never a mix and never nothing: the new content goes to a temporary file in the
 * same directory, which is flushed to disk (fsync), renamed over the target (rename(2) is
 * atomic within a file system, POSIX.1-2017), and then the directory itself is flushed so
 * that the rename is on disk too (without that, ext4 and XFS may forget the new name after a
 * power cut even though the data blocks were written).
 *
 * The temporary file has one fixed name, `<file>.tmp`: one writer per file at a time (the
 * daemon serialises its writes), and a temporary file left by a crash is simply overwritten
 * by the next write.
 */
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The few file system calls an atomic write makes; tests wrap them to watch or break them. */
export interface AtomicFs {
  /** Opens `path` with `flags` ("w", "r") and `mode` for a new file. */
  open(path: string, flags: string, mode?: number): Promise<AtomicHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

/** An open file (or directory, for its fsync). */
export interface AtomicHandle {
  writeAll(data: Uint8Array): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The real file system. */
export const nodeAtomicFs: AtomicFs = {
  async open(path, flags, mode) {
    const handle: FileHandle = await open(path, flags, mode);
    return {
      writeAll: async (data) => {
        // FileHandle.writeFile loops until every byte is written (a short write is not an error).
        await handle.writeFile(data);
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  },
  rename,
  unlink,
};

/** The temporary file an atomic write of `path` goes through. */
export function temporaryPathOf(path: string): string {
  return `${path}.tmp`;
}

/** Options for `writeFileAtomic`. */
export interface AtomicWriteOptions {
  /** The mode of the file when it is created (the temporary file's); default 0o600. */
  mode?: number;
  /** The file system; the real one by default. */
  fs?: AtomicFs;
}

/**
 * Replaces `path` with `data` atomically and durably (see the file comment). Resolves once the
 * new content and its name are on disk. On failure the temporary file is removed (as far as
 * possible), `path` keeps its old content, and the error is thrown.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const fs = options.fs ?? nodeAtomicFs;
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const temporary = temporaryPathOf(path);
  let renamed = false;
  try {
    const file = await fs.open(temporary, 'w', options.mode ?? 0o600);
    try {
      await file.writeAll(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await fs.rename(temporary, path);
    renamed = true;
    // The rename is a change to the directory: flush it, or the old name may come back.
    const directory = await fs.open(dirname(path), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  } catch (error) {
    if (!renamed) await fs.unlink(temporary).catch(() => {});
    throw error;
  }
}
