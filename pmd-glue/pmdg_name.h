/* pmdg_name.h — the port name of a device string, libc only, so that the
 * engine's configuration parser can check a device without DPDK.
 *
 * Owns: telling a vdev ("net_<driver><n>,args...") from a PCI address
 * ([domain:]bus:device.function) and extracting the port's name.
 * Never: touches DPDK or any state; it reads only its arguments.
 */
#ifndef PMDG_NAME_H
#define PMDG_NAME_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The port name of a device string: the vdev name before the first comma,
 * or the PCI address; 1 if it is a vdev, 0 if PCI, -1 if neither fits.
 * Any thread. */
static inline int pmdg_device_name(const char *device, char *name, size_t name_size)
{
	size_t n = strcspn(device, ",");
	if (n == 0 || n >= name_size)
		return -1;
	memcpy(name, device, n);
	name[n] = '\0';
	if (strncmp(name, "net_", 4) == 0 || strncmp(name, "eth_", 4) == 0)
		return 1;
	/* A PCI address: [domain:]bus:device.function, hex digits. */
	unsigned dom, bus, dev, fn;
	char tail;
	if (sscanf(name, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) == 4 ||
	    sscanf(name, "%x:%x.%x%c", &bus, &dev, &fn, &tail) == 3)
		return device[n] == '\0' ? 0 : -1;
	return -1;
}

#endif
