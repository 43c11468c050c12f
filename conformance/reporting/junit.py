"""JUnit XML, the format CI platforms display and gate on.

One ``<testsuite>`` per RFC section, one ``<testcase>`` per result. fail -> ``<failure>`` (a violated MUST),
error -> ``<error>`` (the exchange broke), skip -> ``<skipped>``; a warn passes and says so in the
``warning`` property and in ``<system-out>``. Every test case carries its requirement ids, level and
outcome as properties.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from . import accepted_ids, by_section, counts, curl_command, key_exchange

# Characters XML 1.0 cannot carry (a server's body may hold them): shown as U+FFFD.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: Any) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def _time(seconds: Any) -> str:
    return f"{float(seconds or 0):.3f}"


def _detail(result: dict[str, Any]) -> str:
    lines = [result["message"], f"check: {result['check']} ({result['level']} {', '.join(result['requirements'])})"]
    ex = key_exchange(result)
    if ex is not None:
        lines.append(f"last exchange: {ex['method']} {ex['url']} -> {ex.get('error') or ex.get('status')}")
        lines.append(f"reproduce: {curl_command(ex)}")
    return "\n".join(lines)


def build(report: dict[str, Any]) -> ET.Element:
    accepted = accepted_ids(report)
    total = counts(report["results"])
    root = ET.Element(
        "testsuites",
        {
            "name": "scim-conformance",
            "tests": str(total["total"]),
            "failures": str(total["fail"]),
            "errors": str(total["error"]),
            "skipped": str(total["skip"]),
            "time": _time(report.get("duration_s")),
        },
    )
    for section, results in by_section(report["results"]).items():
        c = counts(results)
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": section,
                "tests": str(c["total"]),
                "failures": str(c["fail"]),
                "errors": str(c["error"]),
                "skipped": str(c["skip"]),
                "time": _time(sum(float(r.get("duration_s") or 0) for r in results)),
                "timestamp": str(report.get("started", "")).removesuffix("Z"),
            },
        )
        props = ET.SubElement(suite, "properties")
        target = report.get("target") or {}
        for name, value in (
            ("target", target.get("url", "")),
            ("profile", target.get("profile", "")),
            ("run_id", report.get("run_id", "")),
        ):
            ET.SubElement(props, "property", {"name": name, "value": str(value)})
        for r in results:
            case = ET.SubElement(
                suite,
                "testcase",
                {
                    "classname": f"scim.{r['check']}",
                    "name": r["id"],
                    "time": _time(r.get("duration_s")),
                },
            )
            cprops = ET.SubElement(case, "properties")
            for rid in r["requirements"]:
                ET.SubElement(cprops, "property", {"name": "requirement", "value": rid})
            ET.SubElement(cprops, "property", {"name": "level", "value": r["level"]})
            ET.SubElement(cprops, "property", {"name": "outcome", "value": r["outcome"]})
            if r["id"] in accepted:
                ET.SubElement(cprops, "property", {"name": "baseline", "value": accepted[r["id"]]})
            outcome = r["outcome"]
            if outcome == "fail":
                el = ET.SubElement(case, "failure", {"message": r["message"], "type": f"{r['level']} violated"})
                el.text = _detail(r)
            elif outcome == "error":
                el = ET.SubElement(case, "error", {"message": r["message"], "type": "exchange broke"})
                el.text = _detail(r)
            elif outcome == "skip":
                ET.SubElement(case, "skipped", {"message": r["message"]})
            elif outcome == "warn":
                ET.SubElement(cprops, "property", {"name": "warning", "value": r["message"]})
                out = ET.SubElement(case, "system-out")
                out.text = f"WARN ({r['level']}): " + _detail(r)
    return root


def render(report: dict[str, Any]) -> str:
    root = build(report)
    for el in root.iter():
        el.attrib.update({k: _x(v) for k, v in el.attrib.items()})
        if el.text:
            el.text = _x(el.text)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write(report: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path
