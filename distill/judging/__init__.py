"""The judge kit every LLM judge uses: curation's (`distill.scorers.llm_judge`), evaluation's (`distill.evaluate.judge`)
and the EPITOME pair judge (`distill.epitome.judge`).

- `rubric`: rubric files (`rubrics/<version>/<name>.txt`), one format, one loader;
- `transcript`: the conversation as a judge reads it;
- `verdict`: a reply -> a value or one of one set of failure reasons (<think> blocks, fences, truncation);
- `fields`: the JSON-schema pieces and field checks several verdicts share.
"""
