// Loaded with `--import` into a process the bench starts from a command line it does not own
// (embedded-start runs `npm start`'s own node command): when the bench goes away, even by
// SIGKILL, its IPC channel closes and this turns that into the SIGTERM a user's Ctrl-C would be,
// so the measured process never outlives the run. Nothing else; plain JS, no imports.
if (process.send) {
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  process.channel?.unref(); // the channel alone must not keep the process alive
}
