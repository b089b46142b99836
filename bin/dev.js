#!/usr/bin/env -S node --import tsx --disable-warning=ExperimentalWarning
'use strict'
// Runs the commands straight from src/ (no build) while working on tokenctl.
const path = require('node:path')

require('@oclif/core').execute({ development: true, dir: path.join(__dirname, '..', 'package.json') })
