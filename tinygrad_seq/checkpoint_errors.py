"""The errors ts.save / ts.load raise, each an instance of both the class this library raised
before (so `except ValueError` and the like keep working) and the class torch.save / torch.load
raise for the same problem (so code written for PyTorch catches them too)."""
import pickle


class CheckpointError(ValueError, RuntimeError, pickle.UnpicklingError):
    """A file that is not a valid checkpoint: truncated, corrupt, or not one at all (torch raises
    RuntimeError "PytorchStreamReader failed reading zip archive: ..." for a broken zip, and
    pickle.UnpicklingError for bytes that are no zip at all: the fallbacks written as
    `except pickle.UnpicklingError:` catch this too)."""


class EmptyCheckpointError(CheckpointError, EOFError):
    """Nothing to read where a checkpoint should start (torch's EOFError for an empty file)."""


class SameDataAsTwoTypesError(RuntimeError):
    """Two tensors saved together view one memory as different dtypes (torch's RuntimeError)."""


class MissingFolderError(FileNotFoundError, RuntimeError):
    """Saving into a folder that does not exist (torch's RuntimeError "Parent directory ... does
    not exist.")."""


class NotAFileError(TypeError, AttributeError):
    """f is neither a path nor a binary file object (torch's AttributeError)."""
