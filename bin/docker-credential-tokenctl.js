#!/usr/bin/env node
'use strict'
// docker runs `docker-credential-tokenctl <verb>` for the registries its config.json names in
// credHelpers (tokenctl setup-docker writes them); this is `tokenctl docker-credential <verb>`,
// started the way bin/run.js starts every command (compile cache, stderr redaction).
process.argv.splice(2, 0, 'docker-credential')
require('./run.js')
