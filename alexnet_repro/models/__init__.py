"""The nets: the paper's AlexNet and its LRN; cuda-convnet's CIFAR-10 nets (cifar.py, local.py)."""
