# The compat header's include goes, and each of its KVMARM_* helpers (what
# no name bridges between kernels: structure members and operations) is
# written as Linux 6.12 spells it.  sed script, applied to every exported
# kernel file.
/^#include "kvmarm_compat.h"$/d
s/\<KVMARM_PLATFORM_REMOVE(\([A-Za-z0-9_]*\))/.remove = \1/g
/^[[:space:]]*KVMARM_VFIO_RELEASE_FREE(.*);$/d
/^[[:space:]]*KVMARM_REGION_INFO_OP(.*)[[:space:]\\]*$/d
s/^\([[:space:]]*\)KVMARM_VFIO_IOMMUFD_OPS(\([a-z]*\))[[:space:]]*\\$/\1.bind_iommufd\t= vfio_iommufd_##\2##_bind,\t\t\t\\\n\1.unbind_iommufd\t= vfio_iommufd_##\2##_unbind,\t\t\\\n\1.attach_ioas\t= vfio_iommufd_##\2##_attach_ioas,\t\t\\\n\1.detach_ioas\t= vfio_iommufd_##\2##_detach_ioas,\t\t\\/
s/^\([[:space:]]*\)return KVMARM_IRQ_BYPASS_REGISTER(\([a-z>-]*\), \([a-z>-]*\), \([a-z>-]*\));$/\1\2->token = \3;\n\1\2->irq = \4;\n\1return irq_bypass_register_producer(\2);/
s/\<KVMARM_VFIO_ZAP_MAPPINGS(&\([A-Za-z0-9_>.-]*\));/unmap_mapping_range(\1.inode->i_mapping, 0, 0, true);/g
s/\<KVMARM_VFIO_CAN_ZAP\>/true/g
s/\<KVMARM_BDEV_FILE_EXCL(\([A-Za-z0-9_]*\))/\1->private_data/g
s/\<KVMARM_VDPA_DMA_DEV(&\([A-Za-z0-9_>.-]*\)) = /\1.dma_dev = /g
s/^\([[:space:]]*\)KVMARM_DEV_SET_DMA_COHERENT(\([A-Za-z0-9_>.-]*\));$/#if defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE) || \\\n\tdefined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU) || \\\n\tdefined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU_ALL)\n\1\2->dma_coherent = true;\n#endif/
