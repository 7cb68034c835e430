"""harness-workflows: run batch work on Argo Workflows from Python, without writing YAML."""

from pathlib import Path

from setuptools import find_packages, setup

# The built-in task images' build contexts, for the local engine of non-editable installs.
BUILTIN_TASKS = Path("applications/workflows/tasks")
DATA_FILES = [
    (f"share/harness-workflows/{folder.as_posix()}", [str(path) for path in sorted(folder.iterdir()) if path.is_file()])
    for folder in sorted(BUILTIN_TASKS.iterdir())
    if folder.is_dir()
]

setup(
    name="harness-workflows",
    version="0.1.0",
    description="Compile Python tasks and operations into Argo Workflows; submit, wait for and query them.",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    packages=find_packages(include=["workflows", "workflows.*"]),
    package_data={"workflows.validation": ["argo_model.json"], "workflows.engine.pod.argosay": ["bin/*"]},
    data_files=DATA_FILES,
    install_requires=[
        # 36.x returns pod logs as b'...' strings.
        "kubernetes>=28.1,!=36.*",
        "pyyaml>=6.0",
        "kafka-python>=2.0.3",
    ],
    extras_require={
        # The argo-server backend (imported only when that backend is used).
        "argo-server": ["argo-workflows>=6.7.18"],
        # The sample application's service (applications/samples/backend).
        "samples": ["flask>=2.2"],
        "test": ["pytest>=7", "jsonschema>=4.18", "argo-workflows>=6.7.18", "flask>=2.2"],
        "bench": ["hera>=5.16"],
    },
    entry_points={
        "console_scripts": ["workflows = workflows.cli:main"],
        "pytest11": ["workflows = workflows.testing.pytest_plugin"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: System :: Distributed Computing",
    ],
)
