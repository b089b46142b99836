// Ends the run with one plain line, "tests: N passed, N failed, N skipped", that CI reads
// to know how many tests ran. Written at exit so that it comes after jest's own summary.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`
    process.on('exit', () => process.stdout.write(line))
  }
}
