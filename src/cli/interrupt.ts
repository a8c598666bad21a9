/**
 * Ctrl-C while `ferry run --wait` waits: the run belongs to Temporal, not to
 * this process, so an interrupt asks what to do with it instead of dying.
 *
 * - stdin is a terminal: a prompt on stderr, answered by one key:
 *   c = cancel the run, d = detach (the run goes on), w = keep watching.
 *   A second Ctrl-C (while the prompt is up, or after cancel was chosen) detaches.
 * - stdin is not a terminal (a script, CI, nohup): detach at once.
 */
import type { ReadStream } from 'node:tty';

export type InterruptChoice = 'cancel' | 'detach';

export interface InterruptOptions {
  /** what the prompt says before the keys */
  label: string;
  /** stops the progress display before the prompt is written */
  beforePrompt(): void;
  /** restarts it after "keep watching" */
  afterPrompt(): void;
  onChoice(choice: InterruptChoice): void;
  input?: NodeJS.ReadStream;
  output?: NodeJS.WritableStream;
}

export interface InterruptListener {
  /** a prompt is possible: stdin is a terminal */
  readonly interactive: boolean;
  dispose(): void;
}

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';

function isTerminal(input: NodeJS.ReadStream): input is NodeJS.ReadStream & ReadStream {
  return input.isTTY === true && typeof (input as Partial<ReadStream>).setRawMode === 'function';
}

export function listenForInterrupts(options: InterruptOptions): InterruptListener {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stderr;
  const interactive = isTerminal(input);
  /** set while the prompt is up: a second Ctrl-C detaches, dispose() takes the prompt down */
  let prompting: { interrupt(): void; abandon(): void } | undefined;
  let cancelChosen = false;
  let done = false;

  const choose = (choice: InterruptChoice) => {
    if (done) return;
    if (choice === 'cancel') cancelChosen = true;
    else done = true;
    options.onChoice(choice);
  };

  const ask = () => {
    if (!isTerminal(input)) return;
    options.beforePrompt();
    output.write(`\n${options.label}: interrupted. c = cancel the run (it stops after the batch in flight), d = detach (the run goes on), w = keep watching [c/d/w] `);
    const release = (echo: string) => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.setRawMode(false);
      input.pause();
      prompting = undefined;
      output.write(`${echo}\n`);
    };
    const finish = (answer: 'cancel' | 'detach' | 'watch', echo: string) => {
      release(echo);
      if (answer === 'watch') options.afterPrompt();
      else choose(answer);
    };
    const onData = (data: Buffer | string) => {
      const key = data.toString().toLowerCase();
      if (key.startsWith('c')) finish('cancel', 'c');
      else if (key.startsWith('d') || key.startsWith(CTRL_C) || key.startsWith(CTRL_D)) finish('detach', key.startsWith('d') ? 'd' : '^C');
      else if (key.startsWith('w') || key.startsWith('\r') || key.startsWith('\n')) finish('watch', 'w');
      // any other key: the prompt stays
    };
    const onEnd = () => finish('detach', '');
    prompting = { interrupt: () => finish('detach', '^C'), abandon: () => release('') };
    input.setRawMode(true);
    input.on('data', onData);
    input.once('end', onEnd);
    input.resume();
  };

  const onSigint = () => {
    if (done) return;
    if (prompting) prompting.interrupt();
    else if (cancelChosen || !interactive) choose('detach');
    else ask();
  };
  process.on('SIGINT', onSigint);

  return {
    interactive,
    dispose() {
      done = true;
      process.off('SIGINT', onSigint);
      prompting?.abandon();
    },
  };
}
