#!/usr/bin/env node
// The mlops CLI: a thin client of a deployed platform's signed HTTP API. Every command takes --json,
// whose output is a documented contract (docs/CLI.md); human output goes to stdout, progress to
// stderr. This file only wires the command groups (lib/client/commands/); the package's `mlops`
// bin is this file compiled by esbuild (npm run build:cli), `npm run mlops` runs it with tsx.
import { createCli, runCli } from '../lib/client/cli.js';
import { datasetCommands } from '../lib/client/commands/dataset.js';
import { feedbackCommands } from '../lib/client/commands/feedback.js';
import { lineageCommands } from '../lib/client/commands/lineage.js';
import { localCommands } from '../lib/client/commands/local.js';
import { modelCommands } from '../lib/client/commands/models.js';
import { predictCommands } from '../lib/client/commands/predict.js';
import { releaseCommands } from '../lib/client/commands/release.js';
import { rolloutCommands } from '../lib/client/commands/rollout.js';
import { driftCommands } from '../lib/client/commands/drift.js';
import { monitorCommands } from '../lib/client/commands/monitor.js';
import { eventsCommands } from '../lib/client/commands/events.js';
import { runCommands } from '../lib/client/commands/runs.js';
import { scoreCommands } from '../lib/client/commands/score.js';
import { uiCommands } from '../lib/client/commands/ui.js';

const cli = createCli();
for (const group of [localCommands, datasetCommands, modelCommands, runCommands, predictCommands, feedbackCommands, scoreCommands, releaseCommands, rolloutCommands, driftCommands, monitorCommands, eventsCommands, lineageCommands, uiCommands]) group(cli);
await runCli(cli);
