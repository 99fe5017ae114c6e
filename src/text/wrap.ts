/**
 * Text for a terminal of a given width: words wrapped with a hanging indent, never broken inside a
 * word (a URL, a command or a path longer than the line runs past it rather than being cut where a
 * copy would break it). Colour escapes do not count towards the width.
 */

// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-9;]*m/g;

export function visibleLength(text: string): number {
  return text.replace(ESCAPES, '').length;
}

/** `first` starts the first line, `hanging` every further one; a line holds at most `width` columns. */
export function wrap(text: string, width: number, first: string, hanging: string = ' '.repeat(visibleLength(first))): string[] {
  const words = text.split(/\s+/).filter((word) => word !== '');
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of words) {
    if (!empty && visibleLength(line) + 1 + visibleLength(word) > width) {
      lines.push(line);
      line = hanging + word;
    } else {
      line = empty ? line + word : `${line} ${word}`;
    }
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** The width to render for: the terminal's, else $COLUMNS, else 100; never narrower than 40. */
export function terminalWidth(columns: number | undefined, env: Readonly<Record<string, string | undefined>>): number {
  const fromEnv = Number(env.COLUMNS);
  const width = columns && columns > 0 ? columns : Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 100;
  return Math.max(40, width);
}
