"""The default models of the tasks: small CNNs for images, an MLP for vectors. All output logits (or raw values
for regression), never probabilities.

BatchNormalization uses ``momentum=0.9``: with Keras' default 0.99 the moving statistics barely leave their
initial values in the few hundred steps these tasks train for, and a model evaluated with them (``training=False``)
scores far below what it learned (digits: about 60 % instead of over 95 % after 5 epochs).
"""

from __future__ import annotations

import keras

BATCH_NORM_MOMENTUM = 0.9


def _conv_block(filters: int, padding: str = "same") -> list[keras.layers.Layer]:
    return [
        keras.layers.Conv2D(filters, 3, padding=padding),
        keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM),
        keras.layers.Activation("relu"),
    ]


def small_cnn(input_shape: tuple[int, ...], num_classes: int, name: str = "small_cnn") -> keras.Model:
    """conv16-BN-relu-pool, conv32-BN-relu-pool, flatten, dropout 0.25, dense64-relu, dense(num_classes)."""
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            *_conv_block(16),
            keras.layers.MaxPooling2D(),
            *_conv_block(32),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.25),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(num_classes),
        ],
        name=name,
    )


def four_conv_cnn(input_shape: tuple[int, ...], num_classes: int, name: str = "four_conv_cnn") -> keras.Model:
    """conv32, conv32, pool, conv64, conv64, pool (each 3x3 conv unpadded, with BN and relu), dropout 0.25,
    dense128-BN-relu, dropout 0.5, dense(num_classes). On 28x28 inputs the feature maps are 26, 24, 12, 10, 8 and
    4 pixels wide; unpadded convolutions halve the cost of padded ones."""
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            *_conv_block(32, padding="valid"),
            *_conv_block(32, padding="valid"),
            keras.layers.MaxPooling2D(),
            *_conv_block(64, padding="valid"),
            *_conv_block(64, padding="valid"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.25),
            keras.layers.Dense(128),
            keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM),
            keras.layers.Activation("relu"),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(num_classes),
        ],
        name=name,
    )


def mlp(
    input_shape: tuple[int, ...],
    num_outputs: int,
    hidden_units: tuple[int, ...] = (32, 32),
    activation: str = "relu",
    name: str = "mlp",
) -> keras.Model:
    """Dense layers of ``hidden_units`` with ``activation``, then a linear Dense(num_outputs)."""
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            *(keras.layers.Dense(units, activation=activation) for units in hidden_units),
            keras.layers.Dense(num_outputs),
        ],
        name=name,
    )
