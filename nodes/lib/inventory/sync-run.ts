/**
 * One sync run at a time, shared by the timer and input messages, with exactly one report per trigger:
 * - an input message starts a run, or joins the one in progress, and is answered by that run's report
 *   (each message gets one report, sent as that message);
 * - a timer tick starts a run only when none is in progress and reports it only if no input message
 *   joined it (that message's report already says what the run did); a tick that finds a run going
 *   sends nothing.
 */
export class SharedRun<T> {
  private current?: { result: Promise<T>; answered: boolean };

  constructor(private readonly start: () => Promise<T>) {}

  /** Timer tick: the result to report, or undefined when there is nothing for the tick to report. */
  async tick(): Promise<{ result: T } | undefined> {
    if (this.current) return undefined;
    const run = this.begin();
    try {
      const result = await run.result;
      return run.answered ? undefined : { result };
    } catch (e) {
      // A message that joined reports the failure (done(err)); the tick would report it twice.
      if (run.answered) return undefined;
      throw e;
    }
  }

  /** Input message: the result of the run in progress, or of a new one. */
  answer(): Promise<T> {
    const run = this.current ?? this.begin();
    run.answered = true;
    return run.result;
  }

  private begin(): { result: Promise<T>; answered: boolean } {
    const run = { answered: false } as { result: Promise<T>; answered: boolean };
    // Cleared before anyone awaiting the result resumes, so a caller after the end starts a new run.
    run.result = (async () => this.start())().finally(() => { if (this.current === run) this.current = undefined; });
    this.current = run;
    return run;
  }
}
