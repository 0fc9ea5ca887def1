import { renderingsOf } from './leaks.js';

/**
 * The leak checks of `leaks.ts` (`expectNoFragment` with 5 characters, `expectNoBytes` with 4-byte windows in
 * decimal, hex and base64), made fast enough to run on every rendering of every step of a model run: the
 * fragments of every value go into sets once, and each rendering is scanned once for runs that could hold one.
 *
 * String values must be made of Cyrillic letters (as `ModelSource` makes them), which nothing else the tests
 * render contains; bytes must be 100 to 255, so each is three decimal digits.
 */
export class LeakScanner {
  readonly #grams = new Map<string, string>();
  readonly #byteWindows = new Map<string, string>();
  readonly #hexWindows = new Map<string, string>();
  readonly #base64Windows = new Map<string, string>();

  addString(core: string, label: string): void {
    for (let start = 0; start + 5 <= core.length; start++)
      this.#grams.set(core.slice(start, start + 5), label);
  }

  addBytes(bytes: Uint8Array, label: string): void {
    for (let start = 0; start + 4 <= bytes.length; start++) {
      const window = bytes.subarray(start, start + 4);
      this.#byteWindows.set([...window].join(','), label);
      this.#hexWindows.set(Buffer.from(window).toString('hex'), label);
    }
    const base64 = Buffer.from(bytes).toString('base64');
    for (let start = 0; start + 8 <= base64.length; start++) {
      this.#base64Windows.set(base64.slice(start, start + 8), label);
    }
  }

  /** Throws when any rendering of `value` (see `renderingsOf`) holds a fragment of a value. */
  scanValue(value: unknown, where: string): void {
    this.scanText(withoutStackFrames(renderingsOf(value)), where);
  }

  scanText(text: string, where: string): void {
    for (const run of text.match(/[а-яА-Я]{5,}/g) ?? []) {
      for (let start = 0; start + 5 <= run.length; start++) {
        const label = this.#grams.get(run.slice(start, start + 5));
        if (label !== undefined) leak(where, `5 characters of ${label}`, text, run);
      }
    }
    // 200,150,101,230 / 200, 150, ... (arrays, inspect, over lines) / "1":150,"2":101 (JSON of a typed array)
    for (const run of text.match(/\d{3}(?:(?:,\s*|,"\d+":)\d{3})+/g) ?? []) {
      const numbers = run.split(/,"\d+":|,\s*/);
      for (let start = 0; start + 4 <= numbers.length; start++) {
        const label = this.#byteWindows.get(numbers.slice(start, start + 4).join(','));
        if (label !== undefined) leak(where, `4 bytes of ${label}`, text, run);
      }
    }
    for (const run of text.match(/[0-9a-f]{2}(?: ?[0-9a-f]{2}){3,}/g) ?? []) {
      const hex = run.replaceAll(' ', '');
      for (let start = 0; start + 8 <= hex.length; start += 2) {
        const label = this.#hexWindows.get(hex.slice(start, start + 8));
        if (label !== undefined) leak(where, `4 bytes (hex) of ${label}`, text, run);
      }
    }
    for (const run of text.match(/[A-Za-z0-9+/]{8,}/g) ?? []) {
      for (let start = 0; start + 8 <= run.length; start++) {
        const label = this.#base64Windows.get(run.slice(start, start + 8));
        if (label !== undefined) leak(where, `base64 of ${label}`, text, run);
      }
    }
  }
}

/** Stack frame lines name code locations only; dropping them keeps the scans short. */
function withoutStackFrames(text: string): string {
  return text.replace(/^\s*at .*$/gm, '');
}

function leak(where: string, what: string, text: string, run: string): never {
  const at = text.indexOf(run);
  const context = text.slice(Math.max(0, at - 80), at + run.length + 20);
  throw new Error(`leak in ${where}: ${what} appears in a rendering: ...${context}...`);
}
