"""Splits: the one container of a dataset's images and labels, what engine.train() reads (Cifar10 and ImageFolderData
add their fields). test_* is what the net is evaluated on, whatever the dataset calls it (ImageNet's validation set).
"""

from dataclasses import dataclass, replace


@dataclass
class Splits:
    """uint8 NHWC images and int64 labels, on the run's device for train(); images too large for it
    may stay a host array (the memory-mapped cache), streamed a batch at a time (feed.py)."""

    train_x: object  # torch.Tensor, or np.ndarray on the host
    train_y: object
    test_x: object
    test_y: object

    def subset(self, n_train, n_test):
        """The first n images of each split: class-balanced, since both datasets store their splits class-interleaved.
        Other fields (ImageFolder's mean image and PCA) stay those of the full set."""
        return replace(
            self,
            train_x=self.train_x[:n_train],
            train_y=self.train_y[:n_train],
            test_x=self.test_x[:n_test],
            test_y=self.test_y[:n_test],
            checksum=self.checksum + f":subset{n_train}/{n_test}",
        )
