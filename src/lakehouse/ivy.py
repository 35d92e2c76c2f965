"""Maven artifacts through Apache Ivy itself, the `ivy-*.jar` pyspark ships, in a JVM of its own.

spark-submit's resolver (`spark.jars.packages`, used for Delta) takes a flat list of coordinates. Two
things need more than that, and Ivy's own command line does them from an `ivy.xml`:

* pinning a transitive dependency (`<override>`): Spark's Kafka source 4.1.3 asks for
  `spark-token-provider-kafka-0-10_2.13:4.1.3`, which Maven Central does not serve;
* artifacts that must not lose what Spark ships: the Kafka broker and Kafka Connect run in JVMs of
  their own and need `scala-library`, which spark-submit's resolver always leaves out; and non-jar
  artifacts such as Debezium's plugin tarball (`tar.gz`, classifier `plugin`).

Ivy checks each download against the repository's SHA-1, and needs nothing but Java and pyspark,
which a run needs anyway; Maven would be one more thing to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from lakehouse.errors import LakehouseError

TIMEOUT_SECONDS = 900
# where Ivy puts each artifact: one folder per configuration; the organisation is in the name, as in
# spark-submit's retrieval, so `connectors.artifact_of(name, from_ivy=True)` reads both
RETRIEVE_PATTERN = "[conf]/[organisation]_[artifact]-[revision](-[classifier]).[ext]"


@dataclass(frozen=True)
class Dependency:
    """`org:name:rev` into configuration `conf`; `artifact` = `ext:classifier` for a non-jar file."""

    coordinate: str
    conf: str
    artifact: str | None = None
    transitive: bool = True

    def xml(self) -> str:
        org, name, rev = self.coordinate.split(":")
        target = "master" if self.artifact else "default"
        attributes = (
            f"org={quoteattr(org)} name={quoteattr(name)} rev={quoteattr(rev)}"
            f' conf="{self.conf}->{target}" transitive="{str(self.transitive).lower()}"'
        )
        if not self.artifact:
            return f"    <dependency {attributes}/>"
        ext, classifier = self.artifact.split(":")
        return (
            f"    <dependency {attributes}>\n"
            f'      <artifact name={quoteattr(name)} type="{ext}" ext="{ext}" m:classifier="{classifier}"/>\n'
            "    </dependency>"
        )


def module_xml(dependencies: list[Dependency], overrides: dict[str, str]) -> str:
    """An ivy.xml that resolves `dependencies`; `overrides` pins `org:name` to a revision wherever
    it occurs in the graph (Maven's dependencyManagement)."""
    confs = sorted({d.conf for d in dependencies})
    lines = [
        '<ivy-module version="2.0" xmlns:m="http://ant.apache.org/ivy/maven">',
        '  <info organisation="lakehouse" module="fetch"/>',
        "  <configurations>",
        *(f'    <conf name="{conf}"/>' for conf in confs),
        "  </configurations>",
        "  <dependencies>",
        *(d.xml() for d in dependencies),
    ]
    for module, rev in sorted(overrides.items()):
        org, name = module.split(":")
        lines.append(f"    <override org={quoteattr(org)} module={quoteattr(name)} rev={quoteattr(rev)}/>")
    lines += ["  </dependencies>", "</ivy-module>", ""]
    return "\n".join(lines)


def settings_xml(url: str) -> str:
    """One Maven-layout resolver: the repository and nothing else."""
    root = url.rstrip("/") + "/"
    return (
        "<ivysettings>\n"
        '  <settings defaultResolver="main"/>\n'
        '  <resolvers><ibiblio name="main" m2compatible="true" root=' + quoteattr(root) + "/></resolvers>\n"
        "</ivysettings>\n"
    )


def ivy_jar() -> Path:
    import pyspark

    found = sorted((Path(pyspark.__file__).parent / "jars").glob("ivy-*.jar"))
    if not found:
        raise LakehouseError("pyspark ships no ivy jar: reinstall the environment (make setup)")
    return found[-1]


def java_binary() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java:
        raise LakehouseError("Java not found: install openjdk-17-jre-headless or set JAVA_HOME")
    return java


def failure_line(output: str) -> str:
    """The line of Ivy's output that says what could not be resolved."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for marker in ("unresolved dependency", "NOT FOUND", "not found", "Exception", "ERROR"):
        for line in lines:
            if marker in line and not line.startswith("::"):
                return line.lstrip(":").strip()[:300]
    return lines[-1][:300] if lines else "no output"


def retrieve(
    dependencies: list[Dependency], overrides: dict[str, str], url: str, work: Path
) -> dict[str, list[Path]]:
    """Resolve and download into `work/lib/<conf>/`; returns the files of each configuration."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "ivysettings.xml").write_text(settings_xml(url))
    (work / "ivy.xml").write_text(module_xml(dependencies, overrides))
    confs = sorted({d.conf for d in dependencies})
    types = sorted({"jar", "bundle", *(d.artifact.split(":")[0] for d in dependencies if d.artifact)})
    command = [
        java_binary(),
        "-Xmx256m",
        "-cp",
        str(ivy_jar()),
        "org.apache.ivy.Main",
        "-settings",
        str(work / "ivysettings.xml"),
        "-ivy",
        str(work / "ivy.xml"),
        "-cache",
        str(work / "cache"),
        "-retrieve",
        str(work / "lib" / RETRIEVE_PATTERN),
        "-types",
        *types,
        "-confs",
        *confs,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        raise LakehouseError(f"Ivy took more than {TIMEOUT_SECONDS} s resolving from {url}") from exc
    if done.returncode != 0:
        raise LakehouseError(f"Ivy could not resolve from {url}: {failure_line(done.stdout + done.stderr)}")
    return {conf: sorted((work / "lib" / conf).glob("*")) for conf in confs}
