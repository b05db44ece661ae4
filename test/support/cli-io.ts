/**
 * The `CliIo` the CLI's tests hand to `main`: stdout and stderr captured as text, plus
 * whatever else a test sets (environment, name service, signals).
 */
import type { CliIo } from '../../src/cli/command.ts';
import { main } from '../../src/cli/main.ts';

/** A captured run's output so far. */
export type CapturedIo = CliIo & { out: string; err: string };

/** An io whose output accumulates in `out` and `err`. */
export function captureIo(extra: Omit<CliIo, 'stdout' | 'stderr'> = {}): CapturedIo {
  const io: CapturedIo = {
    ...extra,
    out: '',
    err: '',
    stdout(text: string) {
      io.out += text;
    },
    stderr(text: string) {
      io.err += text;
    },
  };
  return io;
}

/** Runs `netarp ...argv` with `extra` to completion: its exit status and output. */
export async function runCaptured(
  argv: readonly string[],
  extra: Omit<CliIo, 'stdout' | 'stderr'> = {},
): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(extra);
  const code = await main(argv, io);
  return { code, out: io.out, err: io.err };
}
