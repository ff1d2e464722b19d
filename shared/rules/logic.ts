/** @module The `logic` of a validation rule set: rule keys joined by and / or / not with parentheses. */

export type Logic =
  | { kind: 'rule'; key: string }
  | { kind: 'not'; operand: Logic }
  | { kind: 'and' | 'or'; left: Logic; right: Logic }
  /** The logic of a rule set with no rules (only `applicable_to`): it always holds. */
  | { kind: 'always' };

export class LogicError extends Error {
  override readonly name = 'LogicError';
}

const TOKEN = /\s*(\(|\)|[A-Za-z_]+|[0-9]+)/y;

function tokenize(source: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    if (/^\s*$/.test(source.slice(TOKEN.lastIndex))) break;
    const match = TOKEN.exec(source);
    if (!match?.[1]) throw new LogicError(`unexpected character at position ${TOKEN.lastIndex + 1}`);
    tokens.push(match[1].toLowerCase());
  }
  return tokens;
}

/**
 * Parses e.g. "1 and (2 or not 3)". Precedence: not > and > or, as in SQL. Every key must be one
 * of `keys`.
 */
export function parseLogic(source: string, keys: ReadonlySet<string>): Logic {
  const tokens = tokenize(source);
  let at = 0;
  const peek = () => tokens[at];
  const expect = (token: string) => {
    if (tokens[at] !== token) throw new LogicError(`expected "${token}" ${tokens[at] ? `but found "${tokens[at]}"` : 'at the end'}`);
    at++;
  };

  const primary = (): Logic => {
    const token = tokens[at++];
    if (token === undefined) throw new LogicError('unexpected end');
    if (token === '(') {
      const inner = or();
      expect(')');
      return inner;
    }
    if (token === 'not') return { kind: 'not', operand: primary() };
    if (/^[0-9]+$/.test(token)) {
      if (!keys.has(token)) throw new LogicError(`rule "${token}" is not defined`);
      return { kind: 'rule', key: token };
    }
    throw new LogicError(`unexpected "${token}"`);
  };
  const and = (): Logic => {
    let left = primary();
    while (peek() === 'and') {
      at++;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };
  const or = (): Logic => {
    let left = and();
    while (peek() === 'or') {
      at++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };

  const logic = or();
  if (at !== tokens.length) throw new LogicError(`unexpected "${tokens[at]}"`);
  return logic;
}

export function evaluateLogic(logic: Logic, truth: (key: string) => boolean): boolean {
  switch (logic.kind) {
    case 'always':
      return true;
    case 'rule':
      return truth(logic.key);
    case 'not':
      return !evaluateLogic(logic.operand, truth);
    case 'and':
      return evaluateLogic(logic.left, truth) && evaluateLogic(logic.right, truth);
    case 'or':
      return evaluateLogic(logic.left, truth) || evaluateLogic(logic.right, truth);
  }
}
