/**
 * Lines that fit the terminal, so that none relies on the terminal to wrap it (a terminal breaks
 * "pg_read_all_stats)  13 ms" between any two characters). Prose wraps at spaces with a hanging
 * indent. Commands wrap only where the result still runs as printed: a shell command between
 * words, outside quotes, with a " \" continuation; inside the SQL of `psql -c '…'`, or a bare SQL
 * statement, between SQL tokens with a plain newline (whitespace to PostgreSQL), never inside a
 * SQL string or identifier. A single word longer than the line (a URL, a path) is never broken:
 * it stands on a line of its own, the one kind of line allowed past the width.
 */

// eslint-disable-next-line no-control-regex
const COLOUR = /\u001b\[[0-9;]*m/g;

/** Display width of a string: code points (what dbdoctor prints is Latin text, digits and symbols); colour escapes take none. */
export function displayWidth(text: string): number {
  return [...text.replace(COLOUR, '')].length;
}

/** Prose: `first` starts the first line (e.g. "  1. "), `rest` every following one. */
export function wrapText(text: string, width: number, first: string, rest: string = ' '.repeat(displayWidth(first))): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = lines.length === 0 ? first : rest;
    let empty = true;
    for (const word of paragraph.split(/ +/).filter((part) => part !== '')) {
      const candidate = empty ? `${line}${word}` : `${line} ${word}`;
      if (!empty && displayWidth(candidate) > width) {
        lines.push(line);
        line = `${rest}${word}`;
      } else {
        line = candidate;
      }
      empty = false;
    }
    lines.push(line);
  }
  return lines;
}

/** A piece of a command: where it may be broken, and how a break there is written. */
interface Piece {
  readonly text: string;
  /** What ends the line when breaking after this piece: " \" in the shell, nothing inside SQL. */
  readonly breakWith?: ' \\' | ' `' | '';
  /** The first piece of a word split further (quoted SQL): the whole word's width, to move it whole when it fits a line. */
  readonly wordWidth?: number;
}

/**
 * A shell command (language "shell") or a SQL statement (language "sql"), indented by `indent`,
 * continuation lines by two more. Lines of a multi-line command (a YAML snippet) are kept as they
 * are: indentation is their meaning.
 */
export function wrapCommand(command: string, width: number, indent: string, language: 'shell' | 'sql' | 'powershell' | undefined): string[] {
  if (command.includes('\n')) return command.split('\n').map((line) => `${indent}${line}`);
  if (displayWidth(indent) + displayWidth(command) <= width) return [`${indent}${command}`];
  const pieces = language === 'sql' ? sqlPieces(command) : language === 'powershell' ? powershellPieces(command) : shellPieces(command);
  const lines: string[] = [];
  const next = `${indent}  `;
  let line = indent;
  let previous: Piece | undefined;
  pieces.forEach((piece, index) => {
    // The line must keep room for the continuation mark it may end with later.
    const room = index === pieces.length - 1 ? 0 : displayWidth(piece.breakWith ?? '');
    const wholeWordMoves = piece.wordWidth !== undefined && displayWidth(line) + piece.wordWidth > width && displayWidth(next) + piece.wordWidth <= width;
    if (previous !== undefined && (wholeWordMoves || displayWidth(line) + displayWidth(piece.text) + room > width)) {
      lines.push(`${line}${previous.breakWith ?? ''}`);
      line = `${next}${piece.text.replace(/^ /, '')}`;
    } else {
      line += previous === undefined ? piece.text.replace(/^ /, '') : piece.text;
    }
    previous = piece;
  });
  lines.push(line);
  return lines;
}

/**
 * PowerShell words, broken with PowerShell's line continuation (a backtick that ends the line),
 * which holds anywhere outside a string, script blocks included. The words dbdoctor prints are
 * bare or single-quoted ('' inside for a quote: two toggles, still inside), split at spaces
 * outside quotes.
 */
function powershellPieces(command: string): Piece[] {
  // No backslash escapes in PowerShell (C:\ is a path); its single quotes include the typographic ones.
  const words: string[] = [];
  let word = '';
  let quoted = false;
  for (const char of command) {
    if (char === ' ' && !quoted) {
      if (word !== '') words.push(word);
      word = '';
      continue;
    }
    word += char;
    if (/['\u2018\u2019\u201a\u201b]/.test(char)) quoted = !quoted;
  }
  if (word !== '') words.push(word);
  return words.map((text, index) => ({ text: `${index === 0 ? '' : ' '}${text}`, breakWith: ' `' }));
}

/**
 * Shell words, each with the space before it, breakable after; the SQL argument of `-c` is split
 * further into SQL pieces inside its quotes.
 */
function shellPieces(command: string): Piece[] {
  const words = splitShellWords(command);
  const pieces: Piece[] = [];
  words.forEach((word, index) => {
    const lead = index === 0 ? '' : ' ';
    // One quoted word after -c: inside '…', or "…" with nothing the shell expands, a newline is
    // just a newline, which PostgreSQL reads as whitespace.
    const quote = /^'[^']*'$/.test(word) ? "'" : /^"[^"$`\\!]*"$/.test(word) ? '"' : undefined;
    const sql = words[index - 1] === '-c' && quote ? word.slice(1, -1) : undefined;
    if (sql !== undefined && quote !== undefined) {
      const inner = sqlPieces(sql);
      inner.forEach((part, at) => {
        const text = `${at === 0 ? `${lead}${quote}` : ''}${part.text}${at === inner.length - 1 ? quote : ''}`;
        pieces.push({ text, breakWith: at === inner.length - 1 ? ' \\' : '', ...(at === 0 ? { wordWidth: displayWidth(word) } : {}) });
      });
      return;
    }
    pieces.push({ text: `${lead}${word}`, breakWith: ' \\' });
  });
  return pieces;
}

/** Words of a shell line, quotes kept, split at unquoted spaces. */
export function splitShellWords(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: "'" | '"' | undefined;
  for (let index = 0; index < command.length; index += 1) {
    const char = command[index] ?? '';
    if (quote) {
      word += char;
      if (char === quote) quote = undefined;
      else if (quote === '"' && char === '\\') word += command[(index += 1)] ?? '';
    } else if (char === ' ') {
      if (word !== '') words.push(word);
      word = '';
    } else {
      word += char;
      if (char === "'" || char === '"') quote = char;
      else if (char === '\\') word += command[(index += 1)] ?? '';
    }
  }
  if (word !== '') words.push(word);
  return words;
}

/** SQL split at spaces outside '…' literals and "…" identifiers; breaking there adds a newline. */
function sqlPieces(sql: string): Piece[] {
  const pieces: Piece[] = [];
  let piece = '';
  let quote: "'" | '"' | undefined;
  for (const char of sql) {
    if (quote) {
      piece += char;
      if (char === quote) quote = undefined;
    } else if (char === ' ' && piece.trim() !== '') {
      pieces.push({ text: piece, breakWith: '' });
      piece = ' ';
    } else {
      piece += char;
      if (char === "'" || char === '"') quote = char;
    }
  }
  if (piece !== '') pieces.push({ text: piece, breakWith: '' });
  return pieces;
}
