// The logger written in JavaScript: `nanoproc:logger/log` through
// `console.error`, one line per call, as the Rust logger writes it.
//
// componentize-js, every feature on, gives the runtime stdin, stdout,
// stderr, clocks, randomness, files and `wasi:http`; the app's manifest
// grants this component stderr alone, and the linker denies it the rest.

export const log = {
  log(level, target, message) {
    const name = level.toUpperCase().padEnd(5);
    console.error(`${name} [${target}] ${message.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
  },
};
