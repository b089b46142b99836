#!/usr/bin/env -S node --import tsx --disable-warning=ExperimentalWarning
// Runs the commands straight from src/ (no build) while working on tokenctl.
import { execute } from '@oclif/core'

await execute({ development: true, dir: import.meta.url })
