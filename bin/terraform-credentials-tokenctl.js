#!/usr/bin/env node
'use strict'
// terraform runs `terraform-credentials-tokenctl [args…] <verb> HOST` for the credentials_helper
// "tokenctl" block of its CLI configuration; this is `tokenctl terraform-credential [args…] <verb>
// HOST`, started the way bin/run.js starts every command (compile cache, stderr redaction).
process.argv.splice(2, 0, 'terraform-credential')
require('./run.js')
