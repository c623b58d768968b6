"""The devserver_wheel macro: one platform wheel of mattermost-plugin-devserver."""

def devserver_wheel(name, platform, binary, wheel, **kwargs):
    """Packs a prebuilt pluginapi-server binary into its platform wheel.

    It runs python-sdk/scripts/build_devserver_wheels.py, the script of
    `make wheels`, with --binary, so that both builds write the same wheel.
    The script fails when the file name it would write is not `wheel`.

    Args:
        name: Name of the target.
        platform: The script's platform name, such as "linux-x86_64".
        binary: Label of the pluginapi-server binary built for the platform.
        wheel: The wheel's file name, which the script checks.
        **kwargs: Common attributes, such as visibility.
    """
    tool = Label("//python-sdk/scripts:build_devserver_wheels")
    native.genrule(
        name = name,
        srcs = [binary],
        outs = [wheel],
        cmd = "$(execpath {tool}) --platform {platform} --binary {platform}=$(execpath {binary}) --out-file $@".format(
            tool = tool,
            platform = platform,
            binary = binary,
        ),
        tools = [tool],
        **kwargs
    )
