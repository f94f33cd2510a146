"""双随机一公开: risk- and credit-weighted draws of inspection objects and inspectors
that anyone can re-derive.

The protocol (docs: plugins/ggzy/sampling/README.md):

1. **Commit a seed before the draw.** `ggzy draw seed-commit --plan P --period YYYY-MM`
   records sha256(seed) with a timestamp (`sampling.seed_commitments`, published in
   `disclosure.sampling_seed_commitments`). The seed itself is either escrowed in the
   warehouse for the scheduled DAG (`--seed`) or kept offline by the office
   (`--seed-sha256`), and is revealed by the draw.
2. **Freeze the inputs.** At draw time the plan row, the object directory
   (marts.dim_inspection_objects, objects of the plan's type), the inspector pool
   (without names), declared conflicts, each object's previous inspectors and the
   inspectors' load in the period are written as one canonical JSON document, the
   *snapshot*, stored with its sha256 (`sampling.snapshots`).
3. **Draw = pure function** `draw.run_draw(snapshot, seed)` of algorithm
   `ALGORITHM_VERSION`: every object gets u = HMAC-SHA256(seed, plan|period|type|id) as a
   uniform number, key = ln(u) / weight (Efraimidis-Spirakis), and the largest keys of
   each stratum are drawn. Inspectors are matched by rules, least-loaded first, ties
   broken by the same HMAC construction.
4. **Stored immutably** (`sampling.draws`, `draw_strata`, `draw_objects`,
   `draw_inspectors`; triggers reject UPDATE, DELETE and TRUNCATE).
5. **Verify**: `ggzy verify DRAW_ID` re-hashes the stored snapshot, checks the seed
   against its commitment and re-runs the draw; exit code 0 = confirmed, 1 = refuted.
"""

ALGORITHM_VERSION = "ggzy-es-hmac-sha256/1"
