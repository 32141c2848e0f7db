// A progress bar for long commands, one line rewritten in place on standard error, only when it is a
// terminal (piped or redirected output stays quiet). Fed by the job system's progress (done/total).
export interface ProgressBar {
  update(done: number, total: number): void;
  stop(): void;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!stream.isTTY) return { update() {}, stop() {} };
  const started = Date.now();
  let last = 0;
  let shown = false;
  const draw = (done: number, total: number) => {
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - 40));
    const f = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(f * width);
    const s = (Date.now() - started) / 1000;
    const eta = f > 0 && f < 1 ? ` eta ${Math.ceil((s * (1 - f)) / f)}s` : '';
    stream.write(
      `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(100 * f).toFixed(0).padStart(3)}% ${done}/${total} ${s.toFixed(1)}s${eta}\x1b[K`,
    );
    shown = true;
  };
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      draw(done, total);
    },
    stop() {
      if (shown) stream.write('\n');
      shown = false;
    },
  };
}
