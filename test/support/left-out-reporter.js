// Repeats the notice of the suites left out on this OS (test/support/platform-suites.js) after
// jest's own summary, where it is not scrolled away. jest.config.js adds it only when some are.
export default class LeftOutReporter {
  constructor(_globalConfig, options) {
    this.notice = options.notice
  }

  onRunComplete() {
    process.on('exit', () => process.stderr.write(`${this.notice}\n`))
  }
}
