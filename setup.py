"""Build the compiled kernels; everything else about the package is in pyproject.toml."""

from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# The featurizer's character pass and lines into units (_kernel); the row loops of the model
# stage and the decoder (_rowkernel).
KERNELS = ("_kernel", "_rowkernel")


class BuildExt(build_ext):
    """Also put the compiled kernel beside its source, as ``build_ext --inplace`` does.

    ``python -m pytest`` in a checkout imports ``./declutter``, not the installed copy, so after
    ``pip install .`` (pip builds in the source tree) the tests find the kernel there too.
    """

    def run(self) -> None:
        super().run()
        if self.inplace:
            return
        for ext in self.extensions:
            built = Path(self.get_ext_fullpath(ext.name))
            beside = Path(ext.sources[0]).with_name(built.name)
            try:
                self.copy_file(str(built), str(beside))
            except OSError as error:  # a read-only source tree: the installed copy still works
                print(f"not copied beside its source: {error}")


setup(
    ext_modules=cythonize(
        [
            Extension(
                f"declutter.{name}", [f"declutter/{name}.pyx"], extra_compile_args=["-O3", "-g0"]
            )
            for name in KERNELS
        ],
        compiler_directives={"language_level": 3},
    ),
    cmdclass={"build_ext": BuildExt},
)
