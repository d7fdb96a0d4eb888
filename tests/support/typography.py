"""French typography in the tests: an issue with every punctuation case, and what to compare.

`classes()` maps away what typography may change (spaces, apostrophes, quotation marks), so two
texts that differ only by typography compare equal, and any other change shows.
"""

from __future__ import annotations

import re
from pathlib import Path

NN = "\u202f"  # narrow no-break space
NB = "\u00a0"  # no-break space
SIGN_STARTS_LINE = re.compile(r"^(?:> ?)*[ \t]*[»;:!?]", re.M)  # a line (of a quote, too) opening on a sign

_CLASSES = str.maketrans({"’": "'", "‘": "'", "«": '"', "»": '"', "“": '"', "”": '"'})


def classes(text: str) -> str:
    """`text` without spaces of any kind, every apostrophe ' and every quotation mark "."""
    return re.sub(r"\s+", "", text.translate(_CLASSES))


TORTURE_SETTINGS = """
[[rubrics]]
key = "edito"
title = "Édito"
emoji = "🗣️"
tagline = "Une rubrique pour l'action : voir !"

[[rubrics]]
key = "a-suivre"
title = "À suivre…"
emoji = "🔜"
"""

TORTURE_ISSUE = """---
number: 1
date: 2022-03-31
title: 'Ce qu''on "appelle" la transition : vraiment ?'
subject: "Territoires Pilotes : l'essentiel !"
preheader: "Au programme : 3 000 élus, 10 h 30 ; à bientôt !"
---

Chers lecteurs d'ici,

Une tribune « Du droit à la formation… au besoin d'une formation adaptée » par des élu.e.s pour les élu.e.s. Quelle formation ?! Réponse : "la bonne" ; voyez-vous ? Une tribune « Du droit à la formation… au besoin d'une formation adaptée » ! Plusieurs fois ; encore : toujours ? Oui !

## Édito : L'édito "du jour" !

*Léa Tramontin - <lea@example.org>*

Rendez-vous à 14:30 (ou 10 h 30) sur https://example.org/page?x=1&y=2 : 3 000 personnes, 15 % de plus !
Le code `a ; b : "c" ! d ?` reste tel quel, et ![Photo : « atelier » !](https://example.org/a.png "Titre : ici") aussi.
Écrivez à lea@example.org ; ou <redaction@example.org> ! Voyez [la page « projets »](https://example.org/p?q=a:b) !

« *adaptée* » et **Important**! Déjà typé&nbsp;: rien de plus.

```
code : "brut" ; rien ! ne change ?
```

## À suivre

Une date à retenir.

```session
title: "Atelier « citoyen » : l'eau"
start: 2022-04-07 14:00
duration: 2h
location: 'Salle "Pajol" : Paris'
description: "Un temps d'échange ; venez !"
online: https://visio.example.org/salle?id=1
```
"""

# For each sign that French typography keeps with the word before it (» ; : ! ? after a space of
# any kind) and each « with the word after it: are both on the same line? Run at many widths of
# the page, so that a line break would fall on each space somewhere.
SAME_LINE_JS = r"""
(() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const chars = [];
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!parent || parent.closest('script,style,pre,code') || !parent.getClientRects().length) continue;
    for (let i = 0; i < node.data.length; i++) chars.push([node, i, node.data[i]]);
  }
  const space = c => c === ' ' || c === '\u00a0' || c === '\u202f';
  const pairs = [];
  for (let k = 1; k + 1 < chars.length; k++) {
    if ('»;:!?'.includes(chars[k][2]) && space(chars[k - 1][2]) && k >= 2 && !space(chars[k - 2][2])) pairs.push([k - 2, k]);
    if (chars[k - 1][2] === '«' && space(chars[k][2]) && !space(chars[k + 1][2])) pairs.push([k - 1, k + 1]);
  }
  const box = k => {
    const range = document.createRange();
    range.setStart(chars[k][0], chars[k][1]);
    range.setEnd(chars[k][0], chars[k][1] + 1);
    const rects = range.getClientRects();
    return rects.length ? rects[0] : null;
  };
  const broken = [];
  for (let width = 240; width <= 600; width += 3) {
    document.body.style.width = width + 'px';
    for (const [a, b] of pairs) {
      const first = box(a), second = box(b);
      if (!first || !second) continue;
      const middle = r => (r.top + r.bottom) / 2;
      if (Math.abs(middle(first) - middle(second)) > Math.min(first.height, second.height) / 2) {
        broken.push(chars.slice(Math.max(0, a - 12), b + 2).map(c => c[2]).join('').replace(/[\u00a0\u202f]/g, ' '));
      }
    }
  }
  return JSON.stringify({pairs: pairs.length, broken: [...new Set(broken)], count: broken.length});
})()
"""


def build_torture(root: Path, settings: str = "") -> Path:
    """The torture issue built in `root` (with `settings` added to its newsletter.toml): its dist/."""
    from click.testing import CliRunner

    from newsletter.cli import cli

    (root / "issues").mkdir(parents=True)
    (root / "issues" / "001.md").write_text(TORTURE_ISSUE, encoding="utf-8")
    (root / "newsletter.toml").write_text(TORTURE_SETTINGS + settings, encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "-C", str(root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return root / "dist"
