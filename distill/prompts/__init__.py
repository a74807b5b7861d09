"""Versioned prompt files (`<version>/<name>.txt`) and the pure functions around them: `render` (unit -> messages) and
`parse` (teacher text -> messages | ParseError). Nothing here calls a model, so every mode is tested without one."""
