package dev.lowbit.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Ownership of a run directory by one process, and one thread of it, at a time: an OS file lock
 * on {@code DIR/.lock} (holding the owner's pid as text), held for the whole run, so that two
 * processes training into one directory (a sweep started twice, overlapping shards) cannot tear
 * its files. The lock file stays in the directory; the lock itself goes with the process, so a
 * killed run leaves nothing to clean up.
 *
 * <p>OS file locks belong to the process: the JVM refuses a second lock of the same file ({@link
 * OverlappingFileLockException}), and on Linux closing any channel of a locked file drops the
 * process's lock. So the directories held by this JVM are kept in a table checked first: another
 * thread gets "in use by this process", the holding thread may take the lock again (nested: a
 * sweep holds a run while its {@link Trainer} runs in it), and a held lock file is never opened
 * a second time.
 */
public final class RunLock implements AutoCloseable {

  /** The lock file's name inside the run directory. */
  public static final String FILE = ".lock";

  /** A run directory that another process, or another thread of this one, holds. */
  public static final class InUseException extends IllegalStateException {
    public InUseException(String message) {
      super(message);
    }
  }

  private static final Map<Path, RunLock> HELD = new HashMap<>(); // guarded by itself

  private final Path key;
  private final FileChannel channel;
  private final FileLock lock;
  private final Thread owner;
  private int holds = 1;

  private RunLock(Path key, FileChannel channel, FileLock lock) {
    this.key = key;
    this.channel = channel;
    this.lock = lock;
    this.owner = Thread.currentThread();
  }

  /**
   * Takes {@code dir} (created when missing) for this thread.
   *
   * @throws InUseException "DIR is in use by another lowbit process (pid N)" when it is held elsewhere
   */
  public static RunLock acquire(Path dir) throws IOException {
    RunLock l = tryAcquire(dir);
    if (l == null) {
      throw new InUseException(dir + " is in use by " + holder(dir) + "; wait for it to finish or use another --out");
    }
    return l;
  }

  /** Takes {@code dir} (created when missing) for this thread; null when another process or thread holds it. */
  public static RunLock tryAcquire(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path key = dir.toRealPath();
    synchronized (HELD) {
      RunLock held = HELD.get(key);
      if (held != null) {
        if (held.owner != Thread.currentThread()) return null;
        held.holds++;
        return held;
      }
      FileChannel ch = FileChannel.open(key.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE);
      FileLock fl;
      try {
        fl = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        fl = null; // held by this JVM under another path (a link): closing ch does not drop that lock's channel
      } catch (IOException e) {
        ch.close(); // e.g. a network file system without locks: name the file and why
        throw new IOException(key.resolve(FILE) + ": cannot lock the run directory (" + e.getMessage() + ")", e);
      } catch (RuntimeException e) {
        ch.close();
        throw e;
      }
      if (fl == null) {
        ch.close();
        return null;
      }
      // the pid, for the message a second process prints; written through the locked channel
      // (opening the file again would drop the lock on Linux)
      ch.truncate(0);
      ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
      ch.force(false);
      RunLock l = new RunLock(key, ch, fl);
      HELD.put(key, l);
      return l;
    }
  }

  /**
   * Waits until {@code dir} is free and takes it, calling {@code onWait} once with the holder
   * ("another lowbit process (pid N)") when it has to wait.
   */
  public static RunLock await(Path dir, Consumer<String> onWait) throws IOException, InterruptedException {
    RunLock l = tryAcquire(dir);
    if (l != null) return l;
    onWait.accept(holder(dir));
    long sleep = 50;
    while ((l = tryAcquire(dir)) == null) {
      Thread.sleep(sleep);
      sleep = Math.min(1000, sleep * 2);
    }
    return l;
  }

  /** Whether another process or thread holds {@code dir} now (a directory that does not exist is free). */
  public static boolean heldElsewhere(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) return false;
    RunLock l = tryAcquire(dir);
    if (l == null) return true;
    l.close();
    return false;
  }

  /**
   * Who holds {@code dir}: "another thread of this process", or "another lowbit process (pid N)"
   * with the pid its lock file names. Only called when this thread does not hold it.
   */
  public static String holder(Path dir) {
    try {
      Path key = dir.toRealPath();
      synchronized (HELD) {
        if (HELD.containsKey(key)) return "another thread of this lowbit process";
      }
      String pid = Files.readString(key.resolve(FILE), StandardCharsets.US_ASCII).strip();
      return "another lowbit process" + (pid.matches("\\d{1,19}") ? " (pid " + pid + ")" : "");
    } catch (NoSuchFileException e) {
      return "another lowbit process";
    } catch (IOException e) {
      return "another lowbit process";
    }
  }

  /** Releases one hold; the last one releases the lock. */
  @Override
  public void close() throws IOException {
    synchronized (HELD) {
      if (holds == 0) return;
      if (--holds > 0) return;
      HELD.remove(key);
      try {
        lock.release();
      } finally {
        channel.close();
      }
    }
  }
}
